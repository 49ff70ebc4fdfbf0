//! Slow, obviously correct oracles for the optimized kernels: unfused, one step at a time,
//! straight from the definitions in `docs/quantization.md`. Tests compare the kernels against
//! them bit for bit; nothing else uses them. [`forward_i8_ref`] composes them into the whole
//! int8 network.

use crate::kernels::QuantLayer;
use crate::model::{Fc1, I8Model};
use crate::quant::{pixel_to_i8, requantize_to_i8};
use crate::shape::{C1, C2, CLASSES, FC1, FLAT, IN_C, IN_H, IN_LEN, IN_W, K, P1, PAD, POOL1_LEN};

/// The outputs of every layer of the int8 network, as [`forward_i8_ref`] computes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct I8RefRun {
    /// conv1 + ReLU + max-pool, CHW `[20][14][14]`.
    pub pool1: [i8; POOL1_LEN],
    /// conv2 + ReLU + max-pool, CHW `[50][7][7]` (fc1's input, flattened).
    pub pool2: [i8; FLAT],
    /// fc1 + ReLU.
    pub fc1: [i8; FC1],
    /// fc2: the logits.
    pub logits: [i8; CLASSES],
}

/// The whole int8 network on `pixels` through the reference kernels, layer by layer and
/// unfused: [`pixel_to_i8`], then [`conv2d_i8_ref`] and [`max_pool2_i8_ref`] twice, then
/// [`dense_i8_ref`] (or [`dense_i4_ref`] for int4 fc1 weights) twice. The expected answer of
/// every optimized path (`I8Model::forward` and the kernels behind it).
pub fn forward_i8_ref(m: &I8Model<'_>, pixels: &[u8; IN_LEN]) -> I8RefRun {
    /// A reference dense layer (`dense_i8_ref` or `dense_i4_ref`), by its weight type.
    type DenseRef<T> = fn(&[i8], &[T], &[i32], &[i32], &[i32], i32, i32, i32, i32, &mut [i8]);
    /// `f` over layer `l`, with its per-channel multipliers and shifts spelled out.
    fn dense<const OC: usize, const WN: usize, T, const N: usize>(
        l: &QuantLayer<'_, OC, WN, [T; N]>,
        x: &[i8],
        out: &mut [i8],
        f: DenseRef<T>,
    ) {
        let (mult, shift) = constants(l);
        f(
            x, l.weights, l.bias, &mult, &shift, l.in_zp, l.out_zp, l.act_min, l.act_max, out,
        );
    }
    /// Per-channel `(multipliers, shifts)` of a layer.
    fn constants<const OC: usize, const WN: usize, W: ?Sized>(
        l: &QuantLayer<'_, OC, WN, W>,
    ) -> ([i32; OC], [i32; OC]) {
        (
            core::array::from_fn(|c| l.requant.get(c).0),
            core::array::from_fn(|c| l.requant.get(c).1),
        )
    }
    /// Convolution then pooling of a `[IC][S][S]` input; `FULL` is the unpooled output length.
    fn conv_pool<const OC: usize, const WN: usize, const FULL: usize>(
        x: &[i8],
        ic: usize,
        side: usize,
        l: &QuantLayer<'_, OC, WN>,
        pooled: &mut [i8],
    ) {
        let (mult, shift) = constants(l);
        let mut full = [0i8; FULL];
        conv2d_i8_ref(
            x, ic, side, side, l.weights, l.bias, &mult, &shift, l.in_zp, l.out_zp, l.act_min,
            l.act_max, &mut full,
        );
        max_pool2_i8_ref(&full, OC, side, side, pooled);
    }
    let input: [i8; IN_LEN] = pixels.map(pixel_to_i8);
    let mut run = I8RefRun {
        pool1: [0; POOL1_LEN],
        pool2: [0; FLAT],
        fc1: [0; FC1],
        logits: [0; CLASSES],
    };
    conv_pool::<C1, _, { C1 * IN_H * IN_W }>(&input, IN_C, IN_H, &m.conv1, &mut run.pool1);
    conv_pool::<C2, _, { C2 * P1 * P1 }>(&run.pool1, C1, P1, &m.conv2, &mut run.pool2);
    match &m.fc1 {
        Fc1::I8(l) => dense(l, &run.pool2, &mut run.fc1, dense_i8_ref),
        Fc1::I4(l) => dense(l, &run.pool2, &mut run.fc1, dense_i4_ref),
    }
    dense(&m.fc2, &run.fc1, &mut run.logits, dense_i8_ref);
    run
}

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

/// Plain f32 dense layer with `[out][in]` weights: `act(dot(w[o], x) + bias)`, the dot
/// product by its definition ([`dot_f32_order`](crate::kernels::dense::dot_f32_order)).
pub fn dense_f32_ref(
    input: &[f32],
    weights: &[f32],
    bias: &[f32],
    act: Option<crate::blob::Activation>,
    out: &mut [f32],
) {
    let n = input.len();
    for o in 0..bias.len() {
        let v = crate::kernels::dense::dot_f32_order(&weights[o * n..(o + 1) * n], input) + bias[o];
        out[o] = match act {
            Some(a) => crate::kernels::act::activate_f32(a, v),
            None => v,
        };
    }
}
