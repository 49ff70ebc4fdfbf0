//! Activations and argmax.

use crate::blob::Activation;

/// Applies `act` to one f32 value: ReLU is `if x > 0 { x } else { 0 }`, tanh is `libm::tanhf`
/// (a correctly specified software implementation, identical on every target).
#[inline(always)]
pub fn activate_f32(act: Activation, x: f32) -> f32 {
    match act {
        Activation::Relu => {
            if x > 0.0 {
                x
            } else {
                0.0
            }
        }
        Activation::Tanh => libm::tanhf(x),
    }
}

/// Index of the largest value; ties go to the lowest index. An empty slice gives 0.
pub fn argmax_i8(values: &[i8]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if values.get(best).is_some_and(|&b| v > b) {
            best = i;
        }
    }
    best
}

/// Index of the largest value; ties go to the lowest index and NaNs are never chosen unless all
/// values are NaN (then 0).
pub fn argmax_f32(values: &[f32]) -> usize {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in values.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        match best {
            Some((_, b)) if v <= b => {}
            _ => best = Some((i, v)),
        }
    }
    best.map_or(0, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_ties_pick_lowest_index() {
        assert_eq!(argmax_i8(&[3, 7, 7, -1]), 1);
        assert_eq!(argmax_i8(&[-128, -128]), 0);
        assert_eq!(argmax_i8(&[]), 0);
        assert_eq!(argmax_f32(&[0.5, 2.0, 2.0]), 1);
        assert_eq!(argmax_f32(&[f32::NAN, 1.0, f32::NAN, 3.0]), 3);
        assert_eq!(argmax_f32(&[f32::NAN, f32::NAN]), 0);
    }

    #[test]
    fn relu_and_tanh() {
        assert_eq!(activate_f32(Activation::Relu, -2.0), 0.0);
        assert_eq!(activate_f32(Activation::Relu, 2.5), 2.5);
        assert!((activate_f32(Activation::Tanh, 0.5) - 0.462_117_16).abs() < 1e-7);
    }
}
