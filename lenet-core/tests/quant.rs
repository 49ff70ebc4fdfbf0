//! The fixed-point arithmetic against independent models built from its written definition.

use lenet_core::quant::{FixedMultiplier, quantize_multiplier, requantize};
use proptest::prelude::*;

/// `round(acc · multiplier · 2^(shift − 31))`, ties toward +∞, saturated — in i128 with
/// Euclidean division instead of shifts.
fn requantize_model(acc: i32, multiplier: i32, shift: i32) -> i32 {
    let denom = 1i128 << (31 - shift);
    let num = i128::from(acc) * i128::from(multiplier);
    let r = (2 * num + denom).div_euclid(2 * denom); // floor(num/denom + 1/2)
    r.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32
}

/// The textbook definition with std's float functions: frexp by exact halving/doubling,
/// `f64::round` (ties away from zero), the 2^31 fix-up.
fn quantize_multiplier_model(real: f64) -> Option<FixedMultiplier> {
    if !(real.is_finite() && real > 0.0) || real < f64::MIN_POSITIVE {
        return None;
    }
    let (mut q, mut e) = (real, 0i32);
    while q >= 1.0 {
        q /= 2.0;
        e += 1;
    }
    while q < 0.5 {
        q *= 2.0;
        e -= 1;
    }
    let mut m = (q * 2f64.powi(31)).round() as i64;
    if m == 1 << 31 {
        m /= 2;
        e += 1;
    }
    (-31..=30).contains(&e).then_some(FixedMultiplier {
        multiplier: m as i32,
        shift: e,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn requantize_matches_rational_model(acc in any::<i32>(), multiplier in 0..=i32::MAX, shift in -31i32..=30) {
        prop_assert_eq!(requantize(acc, multiplier, shift), requantize_model(acc, multiplier, shift));
    }

    #[test]
    fn requantize_matches_model_near_ties(base in -100_000i32..100_000, shift in -31i32..=-1) {
        // acc = base · 2^k with multiplier 2^30 hits exact halves often.
        let k = (-shift).min(20);
        let acc = base.saturating_mul(1 << k).saturating_add(1 - (base & 1) * 2);
        prop_assert_eq!(requantize(acc, 1 << 30, shift), requantize_model(acc, 1 << 30, shift));
    }

    #[test]
    fn quantize_multiplier_matches_std_model(mantissa in 1u64..(1 << 52), exp in -40i32..32) {
        let real = (1.0 + mantissa as f64 / (1u64 << 52) as f64) * 2f64.powi(exp);
        prop_assert_eq!(quantize_multiplier(real), quantize_multiplier_model(real));
    }

    #[test]
    fn quantize_multiplier_is_accurate(real in 1e-9f64..1e8) {
        let m = quantize_multiplier(real).unwrap();
        prop_assert!((1 << 30..=i32::MAX).contains(&m.multiplier));
        let rel = (m.to_f64() - real).abs() / real;
        prop_assert!(rel <= 2f64.powi(-31), "relative error {rel}");
    }
}

#[test]
fn quantize_multiplier_rounds_half_away_at_the_last_bit() {
    // q·2^31 = 2^30 + 0.75 rounds up to 2^30 + 1.
    let real = 0.5 + 2f64.powi(-32) + 2f64.powi(-33);
    assert_eq!(
        quantize_multiplier(real),
        Some(FixedMultiplier {
            multiplier: (1 << 30) + 1,
            shift: 0
        })
    );
    // q·2^31 = 2^30 + 0.5, an exact tie, rounds away from zero; 2^30 + 0.25 rounds down.
    let real = 0.5 + 2f64.powi(-32);
    assert_eq!(
        quantize_multiplier(real),
        Some(FixedMultiplier {
            multiplier: (1 << 30) + 1,
            shift: 0
        }),
        "tie rounds away"
    );
    let real = 0.5 + 2f64.powi(-33);
    assert_eq!(
        quantize_multiplier(real),
        Some(FixedMultiplier {
            multiplier: 1 << 30,
            shift: 0
        })
    );
}
