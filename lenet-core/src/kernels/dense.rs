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
    let finish = |acc: f32, b: f32| {
        let v = acc + b;
        match act {
            Some(a) => activate_f32(a, v),
            None => v,
        }
    };
    // Four rows at a time: four independent sums, each still taken in ascending `i`.
    let mut rows = weights.chunks_exact(4 * IN);
    let mut outs = out.chunks_exact_mut(4);
    let mut biases = bias.chunks_exact(4);
    for ((block, y), b) in (&mut rows).zip(&mut outs).zip(&mut biases) {
        let (r0, rest) = block.split_at(IN);
        let (r1, rest) = rest.split_at(IN);
        let (r2, r3) = rest.split_at(IN);
        let mut acc = [0.0f32; 4];
        for ((((&x, &w0), &w1), &w2), &w3) in input.iter().zip(r0).zip(r1).zip(r2).zip(r3) {
            acc[0] += w0 * x;
            acc[1] += w1 * x;
            acc[2] += w2 * x;
            acc[3] += w3 * x;
        }
        for ((y, &a), &b) in y.iter_mut().zip(&acc).zip(b) {
            *y = finish(a, b);
        }
    }
    for ((row, y), &b) in rows
        .remainder()
        .chunks_exact(IN)
        .zip(outs.into_remainder())
        .zip(biases.remainder())
    {
        let mut acc = 0.0f32;
        for (w, x) in row.iter().zip(input) {
            acc += w * x;
        }
        *y = finish(acc, b);
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
    // Four rows at a time, so that each `x - in_zp` is loaded and offset once for four MACs.
    let mut rows = layer.weights.chunks_exact(4 * IN);
    let mut outs = out.chunks_exact_mut(4);
    let mut o = 0;
    for (block, y) in (&mut rows).zip(&mut outs) {
        let (r0, rest) = block.split_at(IN);
        let (r1, rest) = rest.split_at(IN);
        let (r2, r3) = rest.split_at(IN);
        let mut acc = [0i32; 4];
        for ((((&x, &w0), &w1), &w2), &w3) in input.iter().zip(r0).zip(r1).zip(r2).zip(r3) {
            let x = i32::from(x) - zp;
            acc[0] += i32::from(w0) * x;
            acc[1] += i32::from(w1) * x;
            acc[2] += i32::from(w2) * x;
            acc[3] += i32::from(w3) * x;
        }
        for (y, &a) in y.iter_mut().zip(&acc) {
            *y = layer.output(o, a + layer.bias[o]);
            o += 1;
        }
    }
    for (row, y) in rows.remainder().chunks_exact(IN).zip(outs.into_remainder()) {
        let mut acc = 0i32;
        for (&w, &x) in row.iter().zip(input) {
            acc += i32::from(w) * (i32::from(x) - zp);
        }
        *y = layer.output(o, acc + layer.bias[o]);
        o += 1;
    }
}
