//! 5x5 "same" convolutions fused with the activation and a 2x2/2 max-pool.

use super::QuantLayer;
use super::act::activate_f32;
#[cfg(not(lenet_arm_mve))]
use super::dsp;
use crate::blob::Activation;
use crate::shape::{K, PAD};

/// Range of offsets `k` (tap or patch column) for which `o + k - PAD` lies inside `0..n`,
/// `max(PAD - o, 0)..min(n + PAD - o, bound)`; needs `o <= n + PAD` and gives `lo <= hi` when
/// `n >= PAD` and `bound >= PAD`.
#[inline(always)]
const fn valid_range(o: usize, n: usize, bound: usize) -> (usize, usize) {
    let lo = PAD.saturating_sub(o);
    let hi = n + PAD - o;
    (lo, if hi < bound { hi } else { bound })
}

/// f32 convolution, 5x5, stride 1, zero padding 2, then `act`, then 2x2/2 max-pool
/// (≈ `arm_convolve` + activation + `arm_max_pool`, in f32).
///
/// - `input`: CHW `[IC][H][W]`, `IN = IC·H·W`.
/// - `weights`: OIHW `[OC][IC][5][5]`, `WN = OC·IC·25`; `bias`: `[OC]`.
/// - `out`: CHW `[OC][H/2][W/2]`, `OUT = OC·(H/2)·(W/2)`.
///
/// Each pre-pool value is `act((Σ_{ic,ky,kx} w·x) + bias)`, the sum taken in the order
/// `ic`, `ky`, `kx` (ascending) over in-bounds taps only, starting from `0.0`.
///
/// Out of line: inlined into its caller (where the code generator happens to place both in one
/// unit), LLVM compiles this loop nest into about 50 % more instructions on x86-64.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn conv2d_act_pool_f32<
    const IC: usize,
    const OC: usize,
    const H: usize,
    const W: usize,
    const IN: usize,
    const WN: usize,
    const OUT: usize,
>(
    input: &[f32; IN],
    weights: &[f32; WN],
    bias: &[f32; OC],
    act: Activation,
    out: &mut [f32; OUT],
) {
    const {
        assert!(IN == IC * H * W);
        assert!(WN == OC * IC * K * K);
        assert!(H.is_multiple_of(2) && W.is_multiple_of(2));
        assert!(OUT == OC * (H / 2) * (W / 2));
    }
    // For each output channel and pooled row, the two pre-pool rows are accumulated together:
    // each tap (ic, ky, kx) is slid along an input row over the output columns for which it is
    // in bounds. Every output position still receives its terms in the order ic, ky, kx.
    for ((w_oc, b), out_oc) in weights
        .chunks_exact(IC * K * K)
        .zip(bias)
        .zip(out.chunks_exact_mut((H / 2) * (W / 2)))
    {
        for (py, out_row) in out_oc.chunks_exact_mut(W / 2).enumerate() {
            let mut acc = [[0.0f32; W]; 2];
            for (in_c, w_c) in input.chunks_exact(H * W).zip(w_oc.chunks_exact(K * K)) {
                for (ky, w_row) in w_c.chunks_exact(K).enumerate() {
                    for (dy, acc_row) in acc.iter_mut().enumerate() {
                        // Input row `2·py + dy + ky - PAD`, if it exists.
                        let iy = 2 * py + dy + ky;
                        if iy < PAD || iy - PAD >= H {
                            continue;
                        }
                        let in_row = &in_c[(iy - PAD) * W..(iy - PAD + 1) * W];
                        for (kx, &w) in w_row.iter().enumerate() {
                            // Output columns `ox` with `ox + kx - PAD` in `0..W`.
                            let (lo, hi) = valid_range(kx, W, W);
                            let src = &in_row[lo + kx - PAD..hi + kx - PAD];
                            for (a, &x) in acc_row[lo..hi].iter_mut().zip(src) {
                                *a += w * x;
                            }
                        }
                    }
                }
            }
            let [top, bottom] = acc;
            for ((y, t), bt) in out_row
                .iter_mut()
                .zip(top.chunks_exact(2))
                .zip(bottom.chunks_exact(2))
            {
                let mut best = f32::NEG_INFINITY;
                for v in [t[0], t[1], bt[0], bt[1]] {
                    let v = activate_f32(act, v + *b);
                    if v > best || best == f32::NEG_INFINITY {
                        best = v;
                    }
                }
                *y = best;
            }
        }
    }
}

/// Most taps per output (`IC·25`) [`conv2d_relu_pool_i8`] supports: conv2's `20·25`.
const MAX_TAPS: usize = 500;

/// Integer-only int8 convolution, 5x5, stride 1, padding 2, ReLU folded into the clamp, then
/// 2x2/2 max-pool (≈ TFLM `ConvPerChannel` + `MaxPool`, CMSIS-NN `arm_convolve_s8` +
/// `arm_max_pool_s8`).
///
/// - `input`: CHW `[IC][H][W]` int8 with zero point `layer.in_zp`.
/// - `layer.weights`: OIHW `[OC][IC][5][5]` in `[-127, 127]`.
/// - `out`: CHW `[OC][H/2][W/2]` int8 with zero point `layer.out_zp`.
///
/// For each pooling window: `acc_j = Σ_{in-bounds taps} w·(x − in_zp)` for its four positions,
/// `out = clamp(requantize(max_j acc_j + bias) + out_zp, act_min, act_max)`.
/// Accumulator bound: `IC·25·127·255 + 2^30 < 2^31` for `IC <= 20`.
///
/// Computed one half pooling window (two horizontally adjacent pre-pool positions) at a time, in
/// the style of CMSIS-NN's `arm_nn_mat_mult_kernel_s8_s16`:
/// 1. im2col: the taps of both positions are gathered as raw bytes in OIHW tap order (padding is
///    the raw value `in_zp`, so it contributes `in_zp − in_zp = 0`), then widened in place to
///    `x − in_zp` as i16 pairs with `SXTAB16` (2,000 B of stack for conv2);
/// 2. every pair of output channels takes its dot products with both positions in one pass
///    (2 channels × 2 positions: per 4 taps, two weight words unpacked by `SXTB16`, two pairs per
///    position, eight `SMLAD`; on Armv7E-M one `asm!` loop, `kernels::arm::dot_2x2`);
/// 3. the two halves' maxima are combined per channel, then requantized once.
///
/// Rows that are not a whole number of words (conv1: 25 taps) are first repacked, zero-padded
/// to 28 taps, into the part of the im2col buffer the short columns leave free.
///
/// With Helium (`cfg(lenet_arm_mve)`, the Cortex-M55) the same sums are taken another way: the
/// im2col columns stay raw bytes (padding is still the raw `in_zp`), the dot products are
/// `Σ w·x` over raw bytes (`VMLADAVA.S8`, `kernels::mve::conv_pairs`), and the zero point is
/// folded into the bias once per call: `Σ w·(x − in_zp) + bias = Σ w·x + (bias − in_zp·Σ w)`,
/// with `Σ w` the sum of the channel's `IC·25` weights. Both sides are exact integers, so the
/// outputs are the same bits.
pub fn conv2d_relu_pool_i8<
    const IC: usize,
    const OC: usize,
    const H: usize,
    const W: usize,
    const IN: usize,
    const WN: usize,
    const OUT: usize,
>(
    input: &[i8; IN],
    layer: &QuantLayer<'_, OC, WN>,
    out: &mut [i8; OUT],
) {
    const {
        assert!(IN == IC * H * W);
        assert!(WN == OC * IC * K * K);
        assert!(H.is_multiple_of(2) && W.is_multiple_of(2));
        assert!(OUT == OC * (H / 2) * (W / 2));
        // |acc| <= IC·25·127·255 must leave room for a bias of up to 2^30.
        assert!(IC * K * K * 127 * 255 < (1 << 30));
        assert!(IC * K * K <= MAX_TAPS);
    }
    #[cfg(lenet_arm_mve)]
    conv_i8_raw::<IC, OC, H, W, IN, WN, OUT>(input, layer, out);
    #[cfg(not(lenet_arm_mve))]
    conv_i8_pairs::<IC, OC, H, W, IN, WN, OUT>(input, layer, out);
}

/// Helium body of [`conv2d_relu_pool_i8`]: raw im2col columns, `kernels::mve::conv_pairs`, the
/// zero point folded into the bias.
#[cfg(lenet_arm_mve)]
fn conv_i8_raw<
    const IC: usize,
    const OC: usize,
    const H: usize,
    const W: usize,
    const IN: usize,
    const WN: usize,
    const OUT: usize,
>(
    input: &[i8; IN],
    layer: &QuantLayer<'_, OC, WN>,
    out: &mut [i8; OUT],
) {
    let taps = IC * K * K;
    let weights: &[u8] = bytemuck::cast_slice(layer.weights.as_slice());
    // bias − in_zp·Σ w per channel: |in_zp·Σ w| <= 128·500·127, far from overflowing.
    let mut bias = [0i32; OC];
    for ((b, row), &b0) in bias
        .iter_mut()
        .zip(weights.chunks_exact(taps))
        .zip(layer.bias)
    {
        *b = b0 - layer.in_zp * super::mve::sum(row);
    }
    // The vector output stage takes layers whose every shift is at most −2 (the usual case);
    // others go through the scalar one.
    let vector_requant = {
        let mut mult = [0i32; OC];
        let mut right = [0i32; OC];
        let mut ok = true;
        for (oc, (m, r)) in mult.iter_mut().zip(&mut right).enumerate() {
            let (multiplier, shift) = layer.requant.get(oc);
            let shift = shift.clamp(crate::quant::SHIFT_MIN, crate::quant::SHIFT_MAX);
            ok &= shift <= -2;
            (*m, *r) = (multiplier, shift + 1);
        }
        ok.then_some((mult, right))
    };
    let input: &[u8; IN] = bytemuck::cast_ref(input);
    let pad = layer.in_zp as u8;
    // The two columns, `stride` bytes apart (zero-padded for short rows), as `conv_pairs`
    // reads them.
    let stride = super::mve::col_stride(taps);
    let mut cols = [0u8; 2 * MAX_TAPS];
    let cols = &mut cols[..2 * taps.max(32)];
    let mut best = [0i32; OC];
    // Whole pairs of channels go through `conv_pairs`; an odd last channel is paired with a
    // copy of itself, made once per call.
    let mut pair = [0u8; 2 * MAX_TAPS];
    if OC % 2 == 1 {
        let w = &weights[(OC - 1) * taps..OC * taps];
        pair[..taps].copy_from_slice(w);
        pair[taps..2 * taps].copy_from_slice(w);
    }
    let (lo, hi) = (layer.act_min.max(-128), layer.act_max.min(127));
    for py in 0..H / 2 {
        for px in 0..W / 2 {
            for dy in 0..2 {
                let (even, odd) = best.split_at_mut(OC / 2 * 2);
                let (x0, x1) = cols.split_at_mut(stride);
                gather_pair::<IC, H, W>(input, 2 * py + dy, 2 * px, pad, x0, x1);
                if dy == 0 {
                    super::mve::conv_pairs::<IC, true>(weights, cols, even);
                } else {
                    super::mve::conv_pairs::<IC, false>(weights, cols, even);
                }
                if let [b] = odd {
                    let mut last = [*b; 2];
                    if dy == 0 {
                        super::mve::conv_pairs::<IC, true>(&pair, cols, &mut last);
                    } else {
                        super::mve::conv_pairs::<IC, false>(&pair, cols, &mut last);
                    }
                    *b = last[0];
                }
            }
            let at = py * (W / 2) + px;
            if let Some((mult, right)) = &vector_requant {
                let out: &mut [i8] = &mut out[at..];
                super::mve::requant_strided(
                    &best,
                    &bias,
                    mult,
                    right,
                    layer.out_zp,
                    (lo, hi),
                    out,
                    (H / 2) * (W / 2),
                );
            } else {
                for (oc, (&b, &bias)) in best.iter().zip(&bias).enumerate() {
                    out[oc * (H / 2) * (W / 2) + at] = layer.output(oc, b + bias);
                }
            }
        }
    }
}

/// Body of [`conv2d_relu_pool_i8`] on every target without Helium: im2col columns of i16 pairs
/// `x − in_zp`, [`dot_2x2_rows`].
#[cfg(not(lenet_arm_mve))]
fn conv_i8_pairs<
    const IC: usize,
    const OC: usize,
    const H: usize,
    const W: usize,
    const IN: usize,
    const WN: usize,
    const OUT: usize,
>(
    input: &[i8; IN],
    layer: &QuantLayer<'_, OC, WN>,
    out: &mut [i8; OUT],
) {
    const {
        // Rows that are not whole words are repacked behind the columns, a word per 4 taps.
        assert!(
            (IC * K * K).is_multiple_of(4)
                || (IC * K * K).next_multiple_of(4) * (4 + OC) <= 4 * MAX_TAPS
        );
    }
    let taps = IC * K * K;
    // Taps per row of weights as the dot products read them: a whole number of words.
    let row = taps.next_multiple_of(4);
    // im2col columns of the current two positions (`row / 2` words each), then, for rows that
    // are not whole words, the repacked weights: 2,000 B of stack in all.
    let mut cols = [0u32; MAX_TAPS];
    let (cols, spare) = cols.split_at_mut(row);
    let weights: &[u8] = if taps == row {
        bytemuck::cast_slice(layer.weights.as_slice())
    } else {
        let repacked = &mut bytemuck::cast_slice_mut::<u32, u8>(spare)[..OC * row];
        for (dst, src) in repacked
            .chunks_exact_mut(row)
            .zip(layer.weights.chunks_exact(taps))
        {
            dst[..taps].copy_from_slice(bytemuck::cast_slice(src));
        }
        repacked
    };
    let input: &[u8; IN] = bytemuck::cast_ref(input);
    // The raw byte of the value `in_zp` (in [-128, 127]): padding that contributes 0.
    let pad = layer.in_zp as u8;
    let minus_zp = dsp::splat16(-layer.in_zp);
    // Per output channel, the largest accumulator of the current pooling window so far.
    let mut best = [0i32; OC];
    for py in 0..H / 2 {
        for px in 0..W / 2 {
            for dy in 0..2 {
                let (x0, x1) = cols.split_at_mut(row / 2);
                im2col_pair::<IC, H, W>(input, 2 * py + dy, 2 * px, pad, minus_zp, x0, x1);
                let x = &cols[..row];
                let (x0, x1) = x.split_at(row / 2);
                for (w, b) in weights.chunks(2 * row).zip(best.chunks_mut(2)) {
                    let a = if w.len() == 2 * row {
                        dot_2x2_rows::<IC>(w, x)
                    } else {
                        // An odd last channel is computed twice and kept once.
                        dot_2x2(w, w, x0, x1)
                    };
                    for (b, m) in b.iter_mut().zip([a[0].max(a[1]), a[2].max(a[3])]) {
                        *b = if dy == 0 { m } else { (*b).max(m) };
                    }
                }
            }
            for (oc, &b) in best.iter().enumerate() {
                out[(oc * (H / 2) + py) * (W / 2) + px] = layer.output(oc, b + layer.bias[oc]);
            }
        }
    }
}

/// im2col for the pre-pool positions `(oy, ox)` and `(oy, ox + 1)` (`ox` even): fills `x0` and
/// `x1` (`row / 2` words each, `row` = taps rounded up to a multiple of 4) with the values
/// `x − in_zp` of their taps (0 outside the input and for the padding taps), as i16 pairs in the
/// order [`dsp::sxtb16`]/[`dsp::sxtb16_ror8`] unpack a word of weights: word `2g` holds taps
/// `4g` and `4g + 2`, word `2g + 1` taps `4g + 1` and `4g + 3` (low half first).
///
/// The raw bytes are first gathered in tap order into the upper half of each buffer; widening
/// word `g` of them writes words `2g` and `2g + 1`, which never overtake the words still to be
/// read, so it runs in place.
#[cfg(not(lenet_arm_mve))]
#[inline(always)]
fn im2col_pair<const IC: usize, const H: usize, const W: usize>(
    input: &[u8],
    oy: usize,
    ox: usize,
    pad: u8,
    minus_zp: u32,
    x0: &mut [u32],
    x1: &mut [u32],
) {
    let groups = x0.len() / 2;
    let row = 4 * groups;
    {
        let s0 = &mut bytemuck::cast_slice_mut::<u32, u8>(x0)[row..];
        let s1 = &mut bytemuck::cast_slice_mut::<u32, u8>(x1)[row..];
        // Padding taps (rows rounded up to whole words) meet zero weights; keep them at 0 too.
        s0[IC * K * K..].fill(pad);
        s1[IC * K * K..].fill(pad);
        gather_pair::<IC, H, W>(input, oy, ox, pad, s0, s1);
    }
    // Both columns in one loop (each with its constant length, so no bounds checks remain).
    for g in 0..groups {
        let (r0, r1) = (x0[groups + g], x1[groups + g]);
        x0[2 * g] = dsp::sxtab16(minus_zp, r0);
        x0[2 * g + 1] = dsp::sxtab16_ror8(minus_zp, r0);
        x1[2 * g] = dsp::sxtab16(minus_zp, r1);
        x1[2 * g + 1] = dsp::sxtab16_ror8(minus_zp, r1);
    }
}

/// The raw input bytes of the taps of the pre-pool positions `(oy, ox)` and `(oy, ox + 1)`
/// (`ox` even) in OIHW tap order: `s0[t]` and `s1[t]` for tap `t < IC·25`, the raw byte `pad`
/// (the input zero point) where a tap lies outside the input. Bytes from `IC·25` on are left as
/// they are.
///
/// Input columns `ox − 2 ..= ox + 3` cover both positions' kernels; with K = 5, PAD = 2 and an
/// even `ox` in an even `W`, at most the two leftmost or the two rightmost of them lie outside
/// the input when `W >= 6`, so each row of the window is one fixed-size copy. Kernel rows are
/// the outer loop: whether input row `oy + ky − 2` exists, and which edge case the window is,
/// are decided once per kernel row for all `IC` channels.
#[inline(always)]
fn gather_pair<const IC: usize, const H: usize, const W: usize>(
    input: &[u8],
    oy: usize,
    ox: usize,
    pad: u8,
    s0: &mut [u8],
    s1: &mut [u8],
) {
    let (s0, s1) = (&mut s0[..IC * K * K], &mut s1[..IC * K * K]);
    let edge = match (ox < PAD, ox + K + 1 - PAD > W) {
        (false, false) => Edge::Inside,
        (true, false) => Edge::Left,
        (false, true) => Edge::Right,
        (true, true) => Edge::Narrow,
    };
    // Fixed-size rows, so that each copy is a few loads and stores at every optimisation level
    // (a 5-byte slice copy can become a `memcpy` call).
    let (d0, _) = s0.as_chunks_mut::<K>();
    let (d1, _) = s1.as_chunks_mut::<K>();
    for ky in 0..K {
        // Input row `oy + ky − PAD`, if it exists; kernel row `ky` of channel `ic` is window
        // row `ic·K + ky`.
        let iy = (oy + ky).wrapping_sub(PAD);
        let rows = (0..IC).map(|ic| ic * K + ky);
        if iy >= H {
            for r in rows {
                d0[r] = [pad; K];
                d1[r] = [pad; K];
            }
            continue;
        }
        let channels = input.chunks_exact(H * W).map(|c| &c[iy * W..iy * W + W]);
        match edge {
            Edge::Inside => {
                for (r, row) in rows.zip(channels) {
                    if let Some(src) = row[ox - PAD..].first_chunk::<{ K + 1 }>() {
                        d0[r].copy_from_slice(&src[..K]);
                        d1[r].copy_from_slice(&src[1..]);
                    }
                }
            }
            edge => {
                for (r, row) in rows.zip(channels) {
                    let window = edge.window(row, ox, pad);
                    d0[r].copy_from_slice(&window[..K]);
                    d1[r].copy_from_slice(&window[1..]);
                }
            }
        }
    }
}

/// Where the six input columns of a half pooling window (`ox − 2 ..= ox + 3`) lie.
#[derive(Clone, Copy)]
enum Edge {
    /// The two leftmost are padding (`ox = 0`).
    Left,
    /// All six are inside the row.
    Inside,
    /// The two rightmost are padding (`ox = W − 2`).
    Right,
    /// Both ends are padding (inputs narrower than 6 columns; never in LeNet).
    Narrow,
}

impl Edge {
    /// The six raw bytes of `row` (one input row) under the window at `ox`, padding as `pad`.
    #[inline(always)]
    fn window(self, row: &[u8], ox: usize, pad: u8) -> [u8; K + 1] {
        const { assert!(K == 5 && PAD == 2) };
        let mut w = [pad; K + 1];
        match self {
            Self::Left => {
                if let (Some(src), Some(dst)) = (row.first_chunk::<4>(), w.last_chunk_mut::<4>()) {
                    *dst = *src;
                }
            }
            Self::Inside => {
                if let Some(src) = row
                    .get(ox - PAD..)
                    .and_then(|r| r.first_chunk::<{ K + 1 }>())
                {
                    w = *src;
                }
            }
            Self::Right => {
                if let (Some(src), Some(dst)) = (row.last_chunk::<4>(), w.first_chunk_mut::<4>()) {
                    *dst = *src;
                }
            }
            Self::Narrow => {
                for (c, v) in w.iter_mut().enumerate() {
                    if let Some(&x) = (ox + c).checked_sub(PAD).and_then(|x| row.get(x)) {
                        *v = x;
                    }
                }
            }
        }
        w
    }
}

/// [`dot_2x2`] of two adjacent rows of weights (`w[..row]`, `w[row..2·row]`) with the two
/// adjacent im2col columns (`x[..row/2]`, `x[row/2..row]`), `row = IC·25` rounded up to a
/// multiple of 4. On Armv7E-M (`cfg(lenet_arm_dsp)`) the whole loop is one `asm!` block
/// (`kernels::arm::dot_2x2`, 18 instructions per 16 MACs); elsewhere it is [`dot_2x2`] itself.
/// Both compute the same exact sums.
#[cfg(not(lenet_arm_mve))]
#[inline(always)]
fn dot_2x2_rows<const IC: usize>(w: &[u8], x: &[u32]) -> [i32; 4] {
    #[cfg(lenet_arm_dsp)]
    {
        super::arm::dot_2x2::<IC>(w, x)
    }
    #[cfg(not(lenet_arm_dsp))]
    {
        let row = (IC * K * K).next_multiple_of(4);
        let (w0, w1) = w[..2 * row].split_at(row);
        let (x0, x1) = x[..row].split_at(row / 2);
        dot_2x2(w0, w1, x0, x1)
    }
}

/// Dot products of two rows of int8 weights (`w0`, `w1`: whole words) with two im2col columns
/// (`x0`, `x1`: i16 pairs as laid out by [`im2col_pair`]):
/// `[w0·x0, w0·x1, w1·x0, w1·x1]`, exact (the caller bounds them).
#[cfg(not(lenet_arm_mve))]
#[inline(always)]
fn dot_2x2(w0: &[u8], w1: &[u8], x0: &[u32], x1: &[u32]) -> [i32; 4] {
    let mut a = [0i32; 4];
    for (((w0, w1), x0), x1) in w0
        .chunks_exact(4)
        .zip(w1.chunks_exact(4))
        .zip(x0.chunks_exact(2))
        .zip(x1.chunks_exact(2))
    {
        let (u, v) = (dsp::load_u8x4(w0), dsp::load_u8x4(w1));
        let (u02, u13) = (dsp::sxtb16(u), dsp::sxtb16_ror8(u));
        let (v02, v13) = (dsp::sxtb16(v), dsp::sxtb16_ror8(v));
        a[0] = dsp::smlad(u13, x0[1], dsp::smlad(u02, x0[0], a[0]));
        a[2] = dsp::smlad(v13, x0[1], dsp::smlad(v02, x0[0], a[2]));
        a[1] = dsp::smlad(u13, x1[1], dsp::smlad(u02, x1[0], a[1]));
        a[3] = dsp::smlad(v13, x1[1], dsp::smlad(v02, x1[0], a[3]));
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Side of the input patch that feeds one 2x2 pooling window of a 5x5 convolution.
    const PATCH: usize = K + 1;

    #[test]
    fn valid_range_clips_at_borders() {
        // Kernel taps of output position `o` in a row of 28.
        assert_eq!(valid_range(0, 28, K), (2, 5));
        assert_eq!(valid_range(1, 28, K), (1, 5));
        assert_eq!(valid_range(2, 28, K), (0, 5));
        assert_eq!(valid_range(25, 28, K), (0, 5));
        assert_eq!(valid_range(26, 28, K), (0, 4));
        assert_eq!(valid_range(27, 28, K), (0, 3));
        // Patch columns of the pooling window starting at `o`.
        assert_eq!(valid_range(0, 14, PATCH), (2, 6));
        assert_eq!(valid_range(12, 14, PATCH), (0, 4));
        // Output columns reached by tap `kx` in a row of 14.
        assert_eq!(valid_range(0, 14, 14), (2, 14));
        assert_eq!(valid_range(4, 14, 14), (0, 12));
    }
}
