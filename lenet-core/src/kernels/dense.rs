//! Fully connected layers.

use super::QuantLayer;
use super::act::activate_f32;
use crate::blob::Activation;

/// f32 dense layer: `out[o] = act(Σ_i w[o][i]·x[i] + bias[o])`, the sum taken in ascending `i`
/// from `0.0`; `act = None` leaves the value as is.
///
/// - `input`: `[IN]`; `weights`: `[OUT][IN]`, `WN = OUT·IN`; `bias`, `out`: `[OUT]`.
pub fn dense_f32<const IN: usize, const OUT: usize, const WN: usize>(
    input: &[f32; IN],
    weights: &[f32; WN],
    bias: &[f32; OUT],
    act: Option<Activation>,
    out: &mut [f32; OUT],
) {
    const { assert!(WN == IN * OUT) };
    for (o, (row, y)) in weights.chunks_exact(IN).zip(out.iter_mut()).enumerate() {
        let mut acc = 0.0f32;
        for (w, x) in row.iter().zip(input) {
            acc += w * x;
        }
        let v = acc + bias[o];
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
pub fn dense_i8<const IN: usize, const OUT: usize, const WN: usize>(
    input: &[i8; IN],
    layer: &QuantLayer<'_, OUT, WN>,
    out: &mut [i8; OUT],
) {
    const {
        assert!(WN == IN * OUT);
        assert!(IN * 127 * 255 < (1 << 30));
    }
    let zp = layer.in_zp;
    for (o, (row, y)) in layer
        .weights
        .chunks_exact(IN)
        .zip(out.iter_mut())
        .enumerate()
    {
        let mut acc = 0i32;
        for (&w, &x) in row.iter().zip(input) {
            acc += i32::from(w) * (i32::from(x) - zp);
        }
        *y = layer.output(o, acc + layer.bias[o]);
    }
}
