//! Integer quantization arithmetic: the single implementation used by the quantizer on the host
//! and by the int8 kernels everywhere.
//!
//! # Conventions
//! - Real value `r` of an int8 `q` with scale `s` and zero point `zp`: `r = s * (q - zp)`.
//! - Weights are symmetric (`zp = 0`) in `[-127, 127]`, one scale per output channel.
//! - A real multiplier `M > 0` is stored as a [`FixedMultiplier`]: `M ~= multiplier * 2^(shift - 31)`,
//!   with `multiplier` in `[2^30, 2^31 - 1]` (a Q0.31 fraction in `[0.5, 1)`) and `shift` in
//!   [`SHIFT_MIN`]`..=`[`SHIFT_MAX`]. **Positive `shift` means a left shift** (the TFLM/CMSIS-NN sign).
//! - [`requantize`] uses **single rounding** (TFLite's `TFLITE_SINGLE_ROUNDING` semantics):
//!   `(acc * multiplier + 2^(30 - shift)) >> (31 - shift)` computed exactly in 64 bits with an
//!   arithmetic (flooring) shift, i.e. the exact product rounded **half toward positive infinity**,
//!   then saturated to `i32`. `docs/quantization.md` gives worked examples.

/// Smallest allowed [`FixedMultiplier::shift`].
pub const SHIFT_MIN: i32 = -31;
/// Largest allowed [`FixedMultiplier::shift`].
pub const SHIFT_MAX: i32 = 30;
/// Largest magnitude of a quantized bias; keeps every accumulator inside `i32` (see `docs/quantization.md`).
pub const BIAS_LIMIT: i32 = 1 << 30;
/// Largest magnitude of a quantized weight.
pub const WEIGHT_LIMIT: i32 = 127;

/// A real multiplier as a Q0.31 fraction and a power-of-two exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FixedMultiplier {
    /// Q0.31 mantissa, in `[2^30, 2^31 - 1]` when produced by [`quantize_multiplier`].
    pub multiplier: i32,
    /// Power-of-two exponent; positive = left shift (TFLM/CMSIS sign), in `[-31, 30]`.
    pub shift: i32,
}

impl FixedMultiplier {
    /// The real value this multiplier stands for (host-side diagnostics only).
    pub fn to_f64(self) -> f64 {
        f64::from(self.multiplier) * libm::exp2(f64::from(self.shift) - 31.0)
    }
}

/// Converts a real multiplier into a [`FixedMultiplier`], with integer operations on the bits of
/// `real` (no `frexp`, no float rounding).
///
/// `real = q * 2^e` with `q` in `[0.5, 1)`; `multiplier = round(q * 2^31)` (ties away from zero);
/// if that rounds up to `2^31`, it becomes `2^30` and `e + 1`. `shift = e`.
///
/// Returns `None` when `real` is not finite, not positive, or needs a shift outside
/// [`SHIFT_MIN`]`..=`[`SHIFT_MAX`] (a multiplier below `2^-32` or at least `2^30`).
pub fn quantize_multiplier(real: f64) -> Option<FixedMultiplier> {
    let bits = real.to_bits();
    if bits >> 63 != 0 {
        return None; // negative or -0.0
    }
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 || biased == 0x7ff {
        return None; // zero, subnormal, infinite or NaN
    }
    // real = mant53 * 2^(biased - 1075), mant53 in [2^52, 2^53): q = mant53 / 2^53, e = biased - 1022.
    let mant53 = (bits & ((1 << 52) - 1)) | (1 << 52);
    let mut e = biased - 1022;
    // round(q * 2^31) = round(mant53 / 2^22), ties away from zero (the value is positive).
    let mut m = (mant53 + (1 << 21)) >> 22;
    if m == 1 << 31 {
        m = 1 << 30;
        e += 1;
    }
    if !(SHIFT_MIN..=SHIFT_MAX).contains(&e) {
        return None;
    }
    let multiplier = i32::try_from(m).ok()?;
    Some(FixedMultiplier {
        multiplier,
        shift: e,
    })
}

/// Multiplies `acc` by the real number `multiplier * 2^(shift - 31)`, rounding half toward positive
/// infinity, saturating to `i32` (≈ TFLite `MultiplyByQuantizedMultiplier` with single rounding).
///
/// Total for every input: a `shift` outside `[-31, 30]` is clamped into it (a parsed blob never
/// holds one).
#[inline(always)]
pub fn requantize(acc: i32, multiplier: i32, shift: i32) -> i32 {
    let total_shift = (31 - shift.clamp(SHIFT_MIN, SHIFT_MAX)) as u32; // 1..=62
    let product = i64::from(acc) * i64::from(multiplier); // |product| <= 2^62
    if total_shift > 32 {
        // The usual case (a multiplier below 1/4): the rounding term lies in the high word, and
        // the low word cannot change the floor, so 32-bit arithmetic gives the same bits:
        // floor((hi·2^32 + lo + 2^(t−1)) / 2^t) = (hi + 2^(t−33)) >> (t − 32) for 0 <= lo < 2^32.
        // |hi| <= 2^30 and the rounding term <= 2^29, so the sum cannot overflow.
        let hi = (product >> 32) as i32;
        return (hi + (1 << (total_shift - 33))) >> (total_shift - 32);
    }
    let round = 1i64 << (total_shift - 1); // <= 2^61, so the sum cannot overflow
    let scaled = (product + round) >> total_shift;
    scaled.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// The full output stage of an int8 layer: `clamp(requantize(acc) + out_zp, act_min, act_max)`.
#[inline(always)]
pub fn requantize_to_i8(
    acc: i32,
    multiplier: i32,
    shift: i32,
    out_zp: i32,
    act_min: i32,
    act_max: i32,
) -> i8 {
    let v = requantize(acc, multiplier, shift).saturating_add(out_zp);
    v.clamp(act_min.max(-128), act_max.min(127)) as i8
}

/// Maps a raw 8-bit pixel to the int8 input of the network: `pixel - 128`
/// (scale `1/255`, zero point `-128`, so the real value is `pixel / 255`).
#[inline(always)]
pub const fn pixel_to_i8(pixel: u8) -> i8 {
    (pixel ^ 0x80) as i8
}

/// Zero point of the int8 input.
pub const INPUT_ZERO_POINT: i32 = -128;

/// Rounds to the nearest integer, ties away from zero (host quantizer; `f64::round` is not in core).
pub fn round_half_away(x: f64) -> f64 {
    libm::round(x)
}

/// Quantizes a real value to an integer grid: `clamp(round_half_away(x / scale) + zp, lo, hi)`.
///
/// Used by the host quantizer for weights (`zp = 0`, `[-127, 127]`) and biases
/// (`scale = s_in * s_w`, `zp = 0`, `[-2^30, 2^30]`). A NaN maps to `zp`.
pub fn quantize_value(x: f64, scale: f64, zp: i32, lo: i32, hi: i32) -> i32 {
    let q = round_half_away(x / scale) + f64::from(zp);
    if q.is_nan() {
        return zp.clamp(lo, hi);
    }
    q.clamp(f64::from(lo), f64::from(hi)) as i32
}

/// Scale and zero point of an asymmetric int8 tensor covering the real range `[lo, hi]`
/// (the range is widened to include 0 so that 0 is exact).
///
/// Returns `(scale, zero_point)`; a degenerate range gets scale `1/255`.
pub fn choose_activation_params(lo: f32, hi: f32) -> (f32, i32) {
    let lo = lo.min(0.0);
    let hi = hi.max(0.0);
    let span = hi - lo;
    let scale = if span.is_finite() && span > 0.0 {
        span / 255.0
    } else {
        1.0 / 255.0
    };
    let zp = quantize_value(f64::from(-128.0 - lo / scale), 1.0, 0, -128, 127);
    (scale, zp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF: i32 = 1 << 30; // multiplier 0.5 with shift 0

    #[test]
    fn requantize_ties_round_toward_positive_infinity() {
        // acc * 0.5
        let table = [
            (5, 3),
            (3, 2),
            (1, 1),
            (0, 0),
            (-1, 0),
            (-3, -1),
            (-5, -2),
            (4, 2),
            (-4, -2),
        ];
        for (acc, want) in table {
            assert_eq!(requantize(acc, HALF, 0), want, "acc {acc}");
        }
        // acc * 0.25 (shift -1): 6 * 0.25 = 1.5 -> 2; -6 * 0.25 = -1.5 -> -1; -2 * 0.25 = -0.5 -> 0
        let table = [
            (6, 2),
            (-6, -1),
            (-2, 0),
            (2, 1),
            (-7, -2),
            (7, 2),
            (-9, -2),
        ];
        for (acc, want) in table {
            assert_eq!(requantize(acc, HALF, -1), want, "acc {acc}");
        }
    }

    #[test]
    fn requantize_extremes_saturate_or_stay_exact() {
        assert_eq!(requantize(i32::MIN, i32::MAX, 0), i32::MIN + 1);
        assert_eq!(requantize(i32::MAX, i32::MAX, 0), i32::MAX - 1);
        assert_eq!(requantize(i32::MIN, i32::MAX, 30), i32::MIN);
        assert_eq!(requantize(i32::MAX, i32::MAX, 30), i32::MAX);
        assert_eq!(requantize(i32::MIN, HALF, 1), i32::MIN);
        assert_eq!(requantize(i32::MIN, i32::MAX, -31), -1);
        assert_eq!(requantize(i32::MAX, i32::MAX, -31), 1);
        assert_eq!(requantize(1, i32::MAX, -31), 0);
        assert_eq!(
            requantize(i32::MIN, HALF, -31),
            0,
            "-2^31 * 2^-32 = -0.5 ties up to 0"
        );
        assert_eq!(requantize(i32::MIN + 1, HALF, -31), 0);
        assert_eq!(requantize(0, i32::MAX, 30), 0);
        assert_eq!(requantize(123, 0, 0), 0);
        // Out-of-range shifts are clamped, never a panic.
        assert_eq!(requantize(1000, HALF, 99), requantize(1000, HALF, 30));
        assert_eq!(requantize(1000, HALF, -99), requantize(1000, HALF, -31));
    }

    #[test]
    fn quantize_multiplier_normalises_and_rounds() {
        assert_eq!(
            quantize_multiplier(0.5),
            Some(FixedMultiplier {
                multiplier: 1 << 30,
                shift: 0
            })
        );
        assert_eq!(
            quantize_multiplier(1.0),
            Some(FixedMultiplier {
                multiplier: 1 << 30,
                shift: 1
            })
        );
        assert_eq!(
            quantize_multiplier(0.75),
            Some(FixedMultiplier {
                multiplier: 3 << 29,
                shift: 0
            })
        );
        // Just below 1.0 rounds up to 2^31 and is renormalised.
        let m = quantize_multiplier(1.0 - 1e-12).unwrap();
        assert_eq!(
            m,
            FixedMultiplier {
                multiplier: 1 << 30,
                shift: 1
            }
        );
        assert_eq!(quantize_multiplier(0.0), None);
        assert_eq!(quantize_multiplier(-0.5), None);
        assert_eq!(quantize_multiplier(f64::NAN), None);
        assert_eq!(quantize_multiplier(f64::INFINITY), None);
        assert_eq!(quantize_multiplier(f64::MIN_POSITIVE / 2.0), None);
        // Range ends: 2^-32 is the smallest representable (shift -31), 2^30 needs shift 31.
        assert_eq!(quantize_multiplier(libm::exp2(-32.0)).unwrap().shift, -31);
        assert_eq!(quantize_multiplier(libm::exp2(-33.0)), None);
        assert_eq!(quantize_multiplier(libm::exp2(29.0)).unwrap().shift, 30);
        assert_eq!(quantize_multiplier(libm::exp2(30.0)), None);
    }

    #[test]
    fn requantize_to_i8_clamps_to_activation_range() {
        assert_eq!(requantize_to_i8(1_000_000, HALF, 0, 0, -128, 127), 127);
        assert_eq!(requantize_to_i8(-1_000_000, HALF, 0, 0, -128, 127), -128);
        assert_eq!(
            requantize_to_i8(-10, HALF, 0, -128, -128, 127),
            -128,
            "ReLU folded into the clamp"
        );
        assert_eq!(requantize_to_i8(10, HALF, 0, -128, -128, 127), -123);
        assert_eq!(
            requantize_to_i8(i32::MAX, i32::MAX, 30, i32::MAX, -128, 127),
            127
        );
    }

    #[test]
    fn pixel_maps_to_offset_int8() {
        assert_eq!(pixel_to_i8(0), -128);
        assert_eq!(pixel_to_i8(128), 0);
        assert_eq!(pixel_to_i8(255), 127);
    }

    #[test]
    fn activation_params_cover_range_and_zero() {
        let (s, zp) = choose_activation_params(0.0, 2.55);
        assert!((s - 0.01).abs() < 1e-7);
        assert_eq!(zp, -128);
        let (s, zp) = choose_activation_params(-1.0, 1.0);
        assert!((s - 2.0 / 255.0).abs() < 1e-7);
        assert_eq!(zp, -1, "-128 + 127.5 = -0.5 rounds away from zero");
    }
}
