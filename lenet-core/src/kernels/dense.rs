//! Fully connected layers.

use super::act::activate_f32;
use super::{QuantLayer, dsp};
use crate::blob::{Activation, i4};

/// Lanes of lenet-core's f32 dot product (see [`dot_f32_order`]).
pub const F32_DOT_LANES: usize = 16;

/// The f32 dot product's last step: the sum of its 16 lane sums `s`, halving:
/// `t[j] = s[j] + s[j + 8]` (`j < 8`), `u[j] = t[j] + t[j + 4]` (`j < 4`),
/// `v[j] = u[j] + u[j + 2]` (`j < 2`), result `v[0] + v[1]`.
///
/// The definition of the order ([`dot_f32_order`]) and the one implementation of the
/// reduction, which every f32 dense kernel (portable, x86, the reference) calls.
#[inline(always)]
pub fn reduce_f32_lanes(s: [f32; F32_DOT_LANES]) -> f32 {
    let t: [f32; 8] = core::array::from_fn(|j| s[j] + s[j + 8]);
    let u: [f32; 4] = core::array::from_fn(|j| t[j] + t[j + 4]);
    let v: [f32; 2] = core::array::from_fn(|j| u[j] + u[j + 2]);
    v[0] + v[1]
}

/// lenet-core's f32 dot product `Σ_i w[i]·x[i]`, in its one defined order (every f32 dense
/// path gives exactly these bits; this plain version is the definition):
///
/// 1. 16 lane sums: lane `j` starts at `+0.0` and adds the products `w[i]·x[i]` of the inputs
///    `i ≡ j (mod 16)` in ascending `i`, each product rounded, then each sum (one multiply and one
///    add per term, never fused);
/// 2. [`reduce_f32_lanes`] adds the 16 lane sums.
///
/// The lanes are what a SIMD unit computes side by side (one 512-bit vector, four 128-bit ones),
/// so the order costs no vector code anything, and any compiler vectorizes the plain loop.
pub fn dot_f32_order(w: &[f32], x: &[f32]) -> f32 {
    let mut s = [0.0f32; F32_DOT_LANES];
    for (i, (&w, &x)) in w.iter().zip(x).enumerate() {
        s[i % F32_DOT_LANES] += w * x;
    }
    reduce_f32_lanes(s)
}

/// f32 dense layer: `out[o] = act(dot(w[o], x) + bias[o])`, the dot product in the order of
/// [`dot_f32_order`]; `act = None` leaves the value as is.
///
/// - `input`: `[IN]`; `weights`: `[OUT][IN]`, `WN = OUT·IN`; `bias`, `out`: `[OUT]`.
///
/// One row at a time: its 16 lane sums are a fixed-size array updated element-wise, which the
/// compiler turns into vector instructions. For fc1 on x86-64 (SSE2, best of 200 calls) this
/// takes 0.76 x the time of four rows of scalar sums in ascending order; two rows at a time
/// took 1.2 x (LLVM paired the two rows' lanes, with shuffles).
pub fn dense_f32<const IN: usize, const OUT: usize, const WN: usize>(
    input: &[f32; IN],
    weights: &[f32; WN],
    bias: &[f32; OUT],
    act: Option<Activation>,
    out: &mut [f32; OUT],
) {
    const { assert!(WN == IN * OUT) };
    const L: usize = F32_DOT_LANES;
    let (xs, x_tail) = input.as_chunks::<L>();
    for ((row, y), &b) in weights.chunks_exact(IN).zip(out.iter_mut()).zip(bias) {
        let (w, w_tail) = row.as_chunks::<L>();
        let mut s = [0.0f32; L];
        for (x, w) in xs.iter().zip(w) {
            for ((s, &w), &x) in s.iter_mut().zip(w).zip(x) {
                *s += w * x;
            }
        }
        for (j, &x) in x_tail.iter().enumerate() {
            s[j] += w_tail[j] * x;
        }
        let v = reduce_f32_lanes(s) + b;
        *y = match act {
            Some(a) => activate_f32(a, v),
            None => v,
        };
    }
}

/// Integer-only int8 dense layer (≈ TFLM `FullyConnected` per channel, CMSIS-NN
/// `arm_fully_connected_s8`):
/// `out[o] = clamp(requantize(Σ_i w[o][i]·(x[i] − in_zp) + bias[o]) + out_zp, act_min, act_max)`.
///
/// - `input`: `[IN]` int8, zero point `layer.in_zp`; `layer.weights`: `[OUT][IN]` in `[-127, 127]`.
/// - Accumulator bound: `IN·127·255 + 2^30 < 2^31` for `IN <= 2450`.
/// - `OUT >= 4` (checked at compile time).
///
/// Four rows at a time (as `arm_nn_vec_mat_mult_t_s8`): per 4 inputs, one word of input bytes is
/// widened to two pairs of `x − in_zp` by `SXTAB16` and shared by the four rows, each of which
/// unpacks one word of weights with `SXTB16` and adds two `SMLAD`s. The last `IN % 4` inputs form
/// one more word, zero-padded on the weight side. Rows past `OUT` in the last block repeat the
/// last row and are dropped.
///
/// With Helium (`cfg(lenet_arm_mve)`) three rows at a time over raw bytes
/// (`kernels::mve::dot_3rows_sums`; the last block of three may overlap the one before): the loop returns `Σ w·x` and `Σ w` of each row, and
/// `Σ w·(x − in_zp) = Σ w·x − in_zp·Σ w` exactly (`|in_zp·Σ w| <= 128·2450·127`).
pub fn dense_i8<const IN: usize, const OUT: usize, const WN: usize>(
    input: &[i8; IN],
    layer: &QuantLayer<'_, OUT, WN>,
    out: &mut [i8; OUT],
) {
    const {
        assert!(WN == IN * OUT);
        assert!(IN * 127 * 255 < (1 << 30));
        // Whole blocks of four rows (the last one may overlap the one before).
        assert!(OUT >= 4);
    }
    let x: &[u8] = bytemuck::cast_slice(input.as_slice());
    let w: &[u8] = bytemuck::cast_slice(layer.weights.as_slice());
    // With Helium: pairs of rows, raw bytes, the zero point applied through the row sums.
    #[cfg(lenet_arm_mve)]
    for o in (0..OUT).step_by(3) {
        let first = o.min(OUT - 3);
        let (r0, rest) = w[first * IN..].split_at(IN);
        let (r1, rest) = rest.split_at(IN);
        let (dots, sums) = super::mve::dot_3rows_sums(r0, r1, &rest[..IN], x);
        for j in o - first..3 {
            let acc = dots[j] - layer.in_zp * sums[j] + layer.bias[first + j];
            out[first + j] = layer.output(first + j, acc);
        }
    }
    #[cfg(not(lenet_arm_mve))]
    let minus_zp = dsp::splat16(-layer.in_zp);
    // Blocks of four rows; the last block ends at the last row (overlapping the previous one
    // when OUT % 4 != 0) and only its new rows are written.
    #[cfg(not(lenet_arm_mve))]
    for o in (0..OUT).step_by(4) {
        let first = o.min(OUT.saturating_sub(4));
        let acc = dot_4rows::<IN>(&w[first * IN..], x, minus_zp);
        for (j, &a) in acc.iter().enumerate().take(OUT - first).skip(o - first) {
            out[first + j] = layer.output(first + j, a + layer.bias[first + j]);
        }
    }
}

/// `[Σ_i r[i]·(x[i] − in_zp)` for each of the four rows `r` that start `w` (rows of `IN`
/// bytes)`]`, exact (the caller bounds them); `minus_zp` is `-in_zp` in both 16-bit lanes.
///
/// Out of line with the row length a constant: rows 1 and 3 are at a fixed offset from rows 0
/// and 2, so the loop needs three pointers and keeps all four accumulators in registers. On
/// Armv7E-M the whole words of input go through one `asm!` loop (`kernels::arm::dot_4rows`,
/// the same sums as the portable loop here, 23 instructions per 16 MACs); the portable loop
/// then only adds the last `IN % 4` inputs.
#[cfg(not(lenet_arm_mve))]
#[inline(never)]
fn dot_4rows<const IN: usize>(w: &[u8], x: &[u8], minus_zp: u32) -> [i32; 4] {
    let (w, x) = (&w[..4 * IN], &x[..IN]);
    // On Armv7E-M one `asm!` block covers the first `done` inputs (all but `IN % 8`) with the
    // same sums; the portable loop below adds the rest (everything on other targets).
    #[cfg(lenet_arm_dsp)]
    let (mut a, done) = super::arm::dot_4rows::<IN>(w, x, minus_zp);
    #[cfg(not(lenet_arm_dsp))]
    let (mut a, done) = ([0i32; 4], 0);
    let (w01, w23) = w.split_at(2 * IN);
    // Hidden from the optimizer, so that it addresses rows 2 and 3 from their own pointer
    // rather than from row 0 with offsets beyond the reach of an immediate.
    let w23 = core::hint::black_box(w23);
    let ((r0, r1), (r2, r3)) = (w01.split_at(IN), w23[..2 * IN].split_at(IN));
    let [r0, r1, r2, r3] = [r0, r1, r2, r3].map(|r| r[done..].chunks_exact(4));
    let mut xs = x[done..].chunks_exact(4);
    for ((((xw, w0), w1), w2), w3) in (&mut xs)
        .zip(r0.clone())
        .zip(r1.clone())
        .zip(r2.clone())
        .zip(r3.clone())
    {
        mac_word(
            &mut a,
            [w0, w1, w2, w3].map(dsp::load_u8x4),
            dsp::load_u8x4(xw),
            minus_zp,
        );
    }
    let tail = xs.remainder();
    if !tail.is_empty() {
        // Zero weights make the padding inputs irrelevant.
        let pad = |b: &[u8]| {
            let mut w = [0u8; 4];
            w[..b.len()].copy_from_slice(b);
            u32::from_le_bytes(w)
        };
        let ws = [
            r0.remainder(),
            r1.remainder(),
            r2.remainder(),
            r3.remainder(),
        ]
        .map(pad);
        mac_word(&mut a, ws, pad(tail), minus_zp);
    }
    a
}

/// `a[j] += Σ_{b < 4} i8(w[j].byte b)·(i8(x.byte b) − in_zp)` for the four rows `j`, with
/// `minus_zp = splat16(-in_zp)`: two `SXTAB16` for the inputs, then per row two `SXTB16` and two
/// `SMLAD` (bytes 0 and 2, then bytes 1 and 3).
#[cfg(not(lenet_arm_mve))]
#[inline(always)]
fn mac_word(a: &mut [i32; 4], w: [u32; 4], x: u32, minus_zp: u32) {
    let (x02, x13) = (dsp::sxtab16(minus_zp, x), dsp::sxtab16_ror8(minus_zp, x));
    for (a, w) in a.iter_mut().zip(w) {
        *a = dsp::smlad(
            dsp::sxtb16_ror8(w),
            x13,
            dsp::smlad(dsp::sxtb16(w), x02, *a),
        );
    }
}

/// Integer-only dense layer with int4 weights (≈ CMSIS-NN `arm_fully_connected_s4`): the same
/// arithmetic as [`dense_i8`],
/// `out[o] = clamp(requantize(Σ_i w[o][i]·(x[i] − in_zp) + bias[o]) + out_zp, act_min, act_max)`,
/// with `w[o][i]` in `[-7, 7]` read from the grouped layout of [`crate::blob::i4`].
///
/// - `input`: `[IN]` int8, zero point `layer.in_zp`; `layer.weights`: `OUT` rows of
///   `i4::row_bytes(IN)` bytes (`WB` in all).
/// - Accumulator bound: `16·IN·7·255 + 2^30 < 2^31` for `IN <= 2450` (the sums are taken with
///   every weight scaled by 16, see below).
/// - `OUT >= 2` (checked at compile time).
///
/// Two rows at a time. Per group of 8 inputs, two words of input bytes are widened to four pairs
/// of `x − in_zp` by `SXTAB16` (`[x0, x2]`, `[x1, x3]`, `[x4, x6]`, `[x5, x7]`) and shared by
/// both rows. A row's group is one word `w`: `(w << 4) & 0xF0F0F0F0` holds elements 0-3 and
/// `w & 0xF0F0F0F0` elements 4-7, each as a byte equal to 16 times the element, so `SXTB16`
/// unpacks them into pairs in the same lane order as the inputs, and two `SMLAD`s per half add
/// 16 times the products. Every term is a multiple of 16, so the total shifted right by 4 is
/// the exact sum. The `IN % 8` inputs of the last, partial group are added one at a time.
pub fn dense_i4<const IN: usize, const OUT: usize, const WN: usize, const WB: usize>(
    input: &[i8; IN],
    layer: &QuantLayer<'_, OUT, WN, [u8; WB]>,
    out: &mut [i8; OUT],
) {
    const {
        assert!(WN == IN * OUT);
        assert!(WB == OUT * i4::row_bytes(IN));
        assert!(16 * IN * 7 * 255 < (1 << 30));
        assert!(OUT >= 2);
    }
    let x: &[u8] = bytemuck::cast_slice(input.as_slice());
    let rb = i4::row_bytes(IN);
    // Pairs of rows; for odd OUT the last pair overlaps the one before and writes its new row.
    for o in (0..OUT).step_by(2) {
        let first = o.min(OUT - 2);
        let acc = dot_2rows_i4::<IN>(&layer.weights[first * rb..], x, layer.in_zp);
        for (j, &a) in acc.iter().enumerate().skip(o - first) {
            out[first + j] = layer.output(first + j, a + layer.bias[first + j]);
        }
    }
}

/// `[Σ_i r[i]·(x[i] − in_zp)` for the two int4 rows `r` (`i4::row_bytes(IN)` bytes each) that
/// start `w`], exact.
///
/// On Armv7E-M the whole groups go through one `asm!` loop (`kernels::arm::dot_2rows_i4`, the
/// same sums as the portable loop here, 28 instructions per 16 MACs).
#[inline(never)]
fn dot_2rows_i4<const IN: usize>(w: &[u8], x: &[u8], in_zp: i32) -> [i32; 2] {
    let minus_zp = dsp::splat16(-in_zp);
    let rb = i4::row_bytes(IN);
    let (w, x) = (&w[..2 * rb], &x[..IN]);
    // 16 times the sums over the first `done` inputs (whole groups).
    #[cfg(lenet_arm_dsp)]
    let (mut a16, done) = super::arm::dot_2rows_i4::<IN>(w, x, minus_zp);
    #[cfg(not(lenet_arm_dsp))]
    let (mut a16, done) = ([0i32; 2], 0);
    let (r0, r1) = w.split_at(rb);
    let whole = IN / i4::GROUP * i4::GROUP;
    let groups = (done..whole).step_by(i4::GROUP);
    for g in groups {
        let b = g / 2;
        let ws = [&r0[b..b + 4], &r1[b..b + 4]].map(dsp::load_u8x4);
        let (x0, x1) = (
            dsp::load_u8x4(&x[g..g + 4]),
            dsp::load_u8x4(&x[g + 4..g + 8]),
        );
        mac_group_i4(&mut a16, ws, x0, x1, minus_zp);
    }
    // Exact: every term of the sums is a multiple of 16.
    let mut a = a16.map(|v| v >> 4);
    for (k, &xk) in x.iter().enumerate().skip(whole) {
        let xk = i32::from(xk as i8) - in_zp;
        a[0] += i32::from(i4::get(r0, k)) * xk;
        a[1] += i32::from(i4::get(r1, k)) * xk;
    }
    a
}

/// `a[j] += 16·Σ_{e < 8} w_j[e]·(x[e] − in_zp)` for one group of 8 inputs (`x0` = bytes 0-3,
/// `x1` = bytes 4-7) and the two rows' group words `w[j]`, with `minus_zp = splat16(-in_zp)`.
#[inline(always)]
fn mac_group_i4(a: &mut [i32; 2], w: [u32; 2], x0: u32, x1: u32, minus_zp: u32) {
    const HIGH_NIBBLES: u32 = 0xF0F0_F0F0;
    let (x02, x13) = (dsp::sxtab16(minus_zp, x0), dsp::sxtab16_ror8(minus_zp, x0));
    let (x46, x57) = (dsp::sxtab16(minus_zp, x1), dsp::sxtab16_ror8(minus_zp, x1));
    for (a, w) in a.iter_mut().zip(w) {
        // Bytes 16·e0..16·e3 and 16·e4..16·e7.
        let (lo, hi) = ((w << 4) & HIGH_NIBBLES, w & HIGH_NIBBLES);
        let mut v = dsp::smlad(dsp::sxtb16(lo), x02, *a);
        v = dsp::smlad(dsp::sxtb16_ror8(lo), x13, v);
        v = dsp::smlad(dsp::sxtb16(hi), x46, v);
        *a = dsp::smlad(dsp::sxtb16_ror8(hi), x57, v);
    }
}
