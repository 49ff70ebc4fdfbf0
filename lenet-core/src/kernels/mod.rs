//! Forward kernels, f32 and int8.
//!
//! Layouts: activations CHW, convolution weights OIHW, dense weights `[out][in]`.
//! Convolutions are 5x5, stride 1, "same" (zero) padding of 2, and are fused with the
//! activation and the 2x2/2 max-pool that follows them, so full-resolution maps are never stored.
//!
//! The int8 kernels follow TFLM's `ConvPerChannel`/`FullyConnected` pipeline:
//! `acc = Σ w·(x − in_zp) + bias`, [`requantize`](crate::quant::requantize) (single rounding),
//! `+ out_zp`, clamp to `[act_min, act_max]`. Padding contributes nothing to `acc` (it stands for
//! the real value 0). Because requantization is monotonic, the fused kernel takes the max of the
//! four accumulators of a pooling window and requantizes once; this equals pooling the four
//! requantized outputs bit for bit (the `reference` module checks it).

pub mod act;
pub mod conv;
pub mod dense;

/// Parameters of one int8 layer with `OC` output channels and `WN` weights, as views into a blob.
#[derive(Debug, Clone, Copy)]
pub struct QuantLayer<'a, const OC: usize, const WN: usize> {
    /// Symmetric per-channel int8 weights in `[-127, 127]` (OIHW or `[out][in]`).
    pub weights: &'a [i8; WN],
    /// Bias per output channel, scale `s_in · s_w[oc]`, `|bias| <= 2^30`.
    pub bias: &'a [i32; OC],
    /// Requantization multiplier per output channel (Q0.31, > 0).
    pub multiplier: &'a [i32; OC],
    /// Requantization shift per output channel, positive = left, in `[-31, 30]`.
    pub shift: &'a [i32; OC],
    /// Zero point of the input tensor, in `[-128, 127]`.
    pub in_zp: i32,
    /// Zero point of the output tensor, in `[-128, 127]`.
    pub out_zp: i32,
    /// Lowest output value (the output zero point for a ReLU layer, -128 otherwise).
    pub act_min: i32,
    /// Highest output value (127).
    pub act_max: i32,
}

impl<const OC: usize, const WN: usize> QuantLayer<'_, OC, WN> {
    /// Output stage for channel `oc`: requantize `acc`, add the output zero point, clamp.
    #[inline(always)]
    pub fn output(&self, oc: usize, acc: i32) -> i8 {
        crate::quant::requantize_to_i8(
            acc,
            self.multiplier[oc],
            self.shift[oc],
            self.out_zp,
            self.act_min,
            self.act_max,
        )
    }
}
