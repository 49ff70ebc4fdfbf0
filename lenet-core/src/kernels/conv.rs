//! 5x5 "same" convolutions fused with the activation and a 2x2/2 max-pool.

use super::QuantLayer;
use super::act::activate_f32;
use crate::blob::Activation;
use crate::shape::{K, PAD};

/// Range of kernel rows (or columns) `k` for which `o + k - PAD` lies inside `0..n`.
#[inline(always)]
const fn valid_taps(o: usize, n: usize) -> (usize, usize) {
    let lo = PAD.saturating_sub(o);
    let hi = if o + K - PAD > n { n + PAD - o } else { K };
    (lo, hi)
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
    for oc in 0..OC {
        let w_oc = &weights[oc * IC * K * K..(oc + 1) * IC * K * K];
        for py in 0..H / 2 {
            for px in 0..W / 2 {
                let mut best = f32::NEG_INFINITY;
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let (oy, ox) = (2 * py + dy, 2 * px + dx);
                    let (ky0, ky1) = valid_taps(oy, H);
                    let (kx0, kx1) = valid_taps(ox, W);
                    let mut acc = 0.0f32;
                    for ic in 0..IC {
                        for ky in ky0..ky1 {
                            let row = (ic * H + oy + ky - PAD) * W + ox;
                            let wrow = (ic * K + ky) * K;
                            for kx in kx0..kx1 {
                                acc += w_oc[wrow + kx] * input[row + kx - PAD];
                            }
                        }
                    }
                    let v = activate_f32(act, acc + bias[oc]);
                    if v > best || best == f32::NEG_INFINITY {
                        best = v;
                    }
                }
                out[(oc * (H / 2) + py) * (W / 2) + px] = best;
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
    for oc in 0..OC {
        let w_oc = &layer.weights[oc * IC * K * K..(oc + 1) * IC * K * K];
        for py in 0..H / 2 {
            for px in 0..W / 2 {
                let mut best = i32::MIN;
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let (oy, ox) = (2 * py + dy, 2 * px + dx);
                    let (ky0, ky1) = valid_taps(oy, H);
                    let (kx0, kx1) = valid_taps(ox, W);
                    let mut acc = 0i32;
                    for ic in 0..IC {
                        for ky in ky0..ky1 {
                            let row = (ic * H + oy + ky - PAD) * W + ox;
                            let wrow = (ic * K + ky) * K;
                            for kx in kx0..kx1 {
                                acc += i32::from(w_oc[wrow + kx])
                                    * (i32::from(input[row + kx - PAD]) - zp);
                            }
                        }
                    }
                    best = best.max(acc);
                }
                out[(oc * (H / 2) + py) * (W / 2) + px] = layer.output(oc, best + layer.bias[oc]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_taps_clip_at_borders() {
        assert_eq!(valid_taps(0, 28), (2, 5));
        assert_eq!(valid_taps(1, 28), (1, 5));
        assert_eq!(valid_taps(2, 28), (0, 5));
        assert_eq!(valid_taps(25, 28), (0, 5));
        assert_eq!(valid_taps(26, 28), (0, 4));
        assert_eq!(valid_taps(27, 28), (0, 3));
    }
}
