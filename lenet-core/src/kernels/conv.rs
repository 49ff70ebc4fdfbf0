//! 5x5 "same" convolutions fused with the activation and a 2x2/2 max-pool.

use super::QuantLayer;
use super::act::activate_f32;
use crate::blob::Activation;
use crate::shape::{K, PAD};

/// Side of the input patch that feeds one 2x2 pooling window of a 5x5 convolution.
const PATCH: usize = K + 1;

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
#[allow(clippy::too_many_arguments)]
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
/// Computed one pooling window at a time: the 6x6 input patch of every input channel under the
/// window is copied to the stack as `x − in_zp` (packed i16, 0 for padding: `72·IC` bytes,
/// 1,440 B for `IC = 20`), then each output channel accumulates its four positions in registers.
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
    }
    let zp = layer.in_zp;
    // The 6x6 input patches under the current pooling window, one per input channel, as
    // `x - in_zp` (0 for padding) packed two per word: value `c` of a row is half `c % 2` of
    // word `c / 2` (low half first), so one load feeds two multiply-accumulates.
    let mut patches = [[[0u32; PATCH / 2]; PATCH]; IC];
    for py in 0..H / 2 {
        for px in 0..W / 2 {
            let (c_lo, c_hi) = valid_range(2 * px, W, PATCH);
            for (patch, in_c) in patches.iter_mut().zip(input.chunks_exact(H * W)) {
                for (r, p_row) in patch.iter_mut().enumerate() {
                    *p_row = [0; PATCH / 2];
                    let iy = 2 * py + r;
                    if iy < PAD || iy - PAD >= H {
                        continue;
                    }
                    let in_row = &in_c[(iy - PAD) * W..(iy - PAD + 1) * W];
                    for c in c_lo..c_hi {
                        // |x - zp| <= 255 fits the i16 half.
                        let v = (i32::from(in_row[2 * px + c - PAD]) - zp) as u16;
                        p_row[c / 2] |= u32::from(v) << (16 * (c % 2));
                    }
                }
            }
            for (oc, w_oc) in layer.weights.chunks_exact(IC * K * K).enumerate() {
                // The four pre-pool accumulators of the window, `a[2·dy + dx]`.
                let mut a = [0i32; 4];
                for (w, patch) in w_oc.chunks_exact(K * K).zip(&patches) {
                    mac_window(w, patch, &mut a);
                }
                let best = a[0].max(a[1]).max(a[2]).max(a[3]);
                out[(oc * (H / 2) + py) * (W / 2) + px] = layer.output(oc, best + layer.bias[oc]);
            }
        }
    }
}

/// Adds one input channel's contribution to the four accumulators of a pooling window:
/// `a[2·dy + dx] += Σ_{ky,kx} w[ky][kx]·patch[ky + dy][kx + dx]`.
///
/// Each kernel row is held in registers while the two patch rows under it stream past, one
/// packed word at a time.
#[inline(always)]
fn mac_window(w: &[i8], patch: &[[u32; PATCH / 2]; PATCH], a: &mut [i32; 4]) {
    let mut s = *a;
    for (ky, w_row) in w.chunks_exact(K).enumerate().take(K) {
        let wr: [i32; K] = core::array::from_fn(|kx| i32::from(w_row[kx]));
        for dy in 0..2 {
            let (mut s0, mut s1) = (s[2 * dy], s[2 * dy + 1]);
            for (j, &word) in patch[ky + dy].iter().enumerate() {
                // Patch columns c = 2j (low half) and 2j + 1 (high half), sign-extended; column
                // c feeds tap c of the left window column (s0) and tap c - 1 of the right (s1).
                let (lo, hi) = (i32::from(word as i16), (word as i32) >> 16);
                let c = 2 * j;
                if c < K {
                    s0 += wr[c] * lo;
                }
                if c >= 1 {
                    s1 += wr[c - 1] * lo;
                }
                if c + 1 < K {
                    s0 += wr[c + 1] * hi;
                }
                s1 += wr[c] * hi;
            }
            s[2 * dy] = s0;
            s[2 * dy + 1] = s1;
        }
    }
    *a = s;
}

#[cfg(test)]
mod tests {
    use super::*;

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
