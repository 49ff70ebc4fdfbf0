//! Slow, obviously correct oracles for the optimized kernels: unfused, one step at a time,
//! straight from the definitions in `docs/quantization.md`. Tests compare the kernels against
//! them bit for bit; nothing else uses them.

use crate::quant::requantize_to_i8;
use crate::shape::{K, PAD};

/// Plain int8 convolution (5x5, stride 1, padding 2) of a CHW `[ic][h][w]` input with OIHW
/// weights, writing the requantized, clamped full-resolution CHW output `[oc][h][w]`.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_i8_ref(
    input: &[i8],
    ic: usize,
    h: usize,
    w: usize,
    weights: &[i8],
    bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    in_zp: i32,
    out_zp: i32,
    act_min: i32,
    act_max: i32,
    out: &mut [i8],
) {
    let oc_n = bias.len();
    for oc in 0..oc_n {
        for y in 0..h {
            for x in 0..w {
                let mut acc: i64 = 0;
                for c in 0..ic {
                    for ky in 0..K {
                        for kx in 0..K {
                            let iy = y as isize + ky as isize - PAD as isize;
                            let ix = x as isize + kx as isize - PAD as isize;
                            if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                continue; // padding: real value 0 contributes nothing
                            }
                            let xv = i64::from(input[(c * h + iy as usize) * w + ix as usize]);
                            let wv = i64::from(weights[((oc * ic + c) * K + ky) * K + kx]);
                            acc += wv * (xv - i64::from(in_zp));
                        }
                    }
                }
                let acc = i32::try_from(acc + i64::from(bias[oc])).expect("accumulator fits i32");
                out[(oc * h + y) * w + x] =
                    requantize_to_i8(acc, multiplier[oc], shift[oc], out_zp, act_min, act_max);
            }
        }
    }
}

/// Plain 2x2/2 max-pool of a CHW `[c][h][w]` int8 map into `[c][h/2][w/2]`.
pub fn max_pool2_i8_ref(input: &[i8], c: usize, h: usize, w: usize, out: &mut [i8]) {
    for ch in 0..c {
        for y in 0..h / 2 {
            for x in 0..w / 2 {
                let at = |dy: usize, dx: usize| input[(ch * h + 2 * y + dy) * w + 2 * x + dx];
                out[(ch * (h / 2) + y) * (w / 2) + x] =
                    at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1));
            }
        }
    }
}

/// Plain int8 dense layer with `[out][in]` weights.
#[allow(clippy::too_many_arguments)]
pub fn dense_i8_ref(
    input: &[i8],
    weights: &[i8],
    bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    in_zp: i32,
    out_zp: i32,
    act_min: i32,
    act_max: i32,
    out: &mut [i8],
) {
    let n = input.len();
    for o in 0..bias.len() {
        let mut acc: i64 = i64::from(bias[o]);
        for i in 0..n {
            acc += i64::from(weights[o * n + i]) * (i64::from(input[i]) - i64::from(in_zp));
        }
        let acc = i32::try_from(acc).expect("accumulator fits i32");
        out[o] = requantize_to_i8(acc, multiplier[o], shift[o], out_zp, act_min, act_max);
    }
}

/// Plain int4 dense layer, the twin of `kernels::dense::dense_i4`: [`dense_i8_ref`] with each
/// weight `w[o][i]` read from row `o` of `weights` (`crate::blob::i4::row_bytes(input.len())`
/// bytes per row) by [`crate::blob::i4::get`].
#[allow(clippy::too_many_arguments)]
pub fn dense_i4_ref(
    input: &[i8],
    weights: &[u8],
    bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    in_zp: i32,
    out_zp: i32,
    act_min: i32,
    act_max: i32,
    out: &mut [i8],
) {
    let rb = crate::blob::i4::row_bytes(input.len());
    for o in 0..bias.len() {
        let row = &weights[o * rb..(o + 1) * rb];
        let mut acc: i64 = i64::from(bias[o]);
        for (i, &x) in input.iter().enumerate() {
            let w = crate::blob::i4::get(row, i);
            acc += i64::from(w) * (i64::from(x) - i64::from(in_zp));
        }
        let acc = i32::try_from(acc).expect("accumulator fits i32");
        out[o] = requantize_to_i8(acc, multiplier[o], shift[o], out_zp, act_min, act_max);
    }
}

/// Plain f32 convolution (5x5, stride 1, padding 2) then activation, full resolution: each
/// output is `act((Σ_{ic,ky,kx ascending, in-bounds} w·x) + bias)` with the sum started at 0.0.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_f32_ref(
    input: &[f32],
    ic: usize,
    h: usize,
    w: usize,
    weights: &[f32],
    bias: &[f32],
    act: crate::blob::Activation,
    out: &mut [f32],
) {
    for oc in 0..bias.len() {
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0.0f32;
                for c in 0..ic {
                    for ky in 0..K {
                        for kx in 0..K {
                            let iy = y as isize + ky as isize - PAD as isize;
                            let ix = x as isize + kx as isize - PAD as isize;
                            if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                continue;
                            }
                            acc += weights[((oc * ic + c) * K + ky) * K + kx]
                                * input[(c * h + iy as usize) * w + ix as usize];
                        }
                    }
                }
                out[(oc * h + y) * w + x] = crate::kernels::act::activate_f32(act, acc + bias[oc]);
            }
        }
    }
}

/// Plain 2x2/2 max-pool of a CHW `[c][h][w]` f32 map (window order (0,0), (0,1), (1,0), (1,1),
/// keeping the first of equal values).
pub fn max_pool2_f32_ref(input: &[f32], c: usize, h: usize, w: usize, out: &mut [f32]) {
    for ch in 0..c {
        for y in 0..h / 2 {
            for x in 0..w / 2 {
                let mut best = f32::NEG_INFINITY;
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let v = input[(ch * h + 2 * y + dy) * w + 2 * x + dx];
                    if v > best {
                        best = v;
                    }
                }
                out[(ch * (h / 2) + y) * (w / 2) + x] = best;
            }
        }
    }
}

/// Plain f32 dense layer with `[out][in]` weights: `act(Σ_i ascending w·x + bias)`.
pub fn dense_f32_ref(
    input: &[f32],
    weights: &[f32],
    bias: &[f32],
    act: Option<crate::blob::Activation>,
    out: &mut [f32],
) {
    let n = input.len();
    for o in 0..bias.len() {
        let mut acc = 0.0f32;
        for i in 0..n {
            acc += weights[o * n + i] * input[i];
        }
        let v = acc + bias[o];
        out[o] = match act {
            Some(a) => crate::kernels::act::activate_f32(a, v),
            None => v,
        };
    }
}
