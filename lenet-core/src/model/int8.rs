//! The int8 model: its parameters and its integer-only forward pass.

use super::prediction::Prediction;
use super::scratch::ScratchI8;
use crate::blob::QUANT_POINTS;
use crate::kernels::act::argmax_i8;
use crate::kernels::conv::conv2d_relu_pool_i8;
use crate::kernels::dense::{dense_i4, dense_i8};
use crate::kernels::{QuantLayer, Requant};
use crate::quant::pixel_to_i8;
use crate::shape::{
    C1, C2, CLASSES, CONV1_W_LEN, CONV2_W_LEN, FC1, FC1_I4_LEN, FC1_W_LEN, FC2_W_LEN, FLAT, IN_C,
    IN_H, IN_LEN, IN_W, P1, POOL1_LEN,
};

/// The int8 model's parameters, borrowed from the blob (ReLU only).
#[derive(Debug, Clone, Copy)]
pub struct I8Model<'a> {
    /// conv1: 1 → 20 channels.
    pub conv1: QuantLayer<'a, C1, CONV1_W_LEN>,
    /// conv2: 20 → 50 channels.
    pub conv2: QuantLayer<'a, C2, CONV2_W_LEN>,
    /// fc1: 2450 → 500, with int8 weights or (a compact blob) int4 ones.
    pub fc1: Fc1<'a>,
    /// fc2: 500 → 10 (no activation: clamp to `[-128, 127]`).
    pub fc2: QuantLayer<'a, CLASSES, FC2_W_LEN>,
    /// Scales of the input, pool1, pool2, fc1 and logits tensors (for display; never used by the
    /// integer pass).
    pub(super) scales: &'a [u32; QUANT_POINTS],
    /// Zero points of the same tensors.
    pub zero_points: &'a [i32; QUANT_POINTS],
}

/// fc1's parameters: int8 weights, or int4 weights in the grouped layout of [`crate::blob::i4`]
/// (a compact blob, `fc1.weight.q` of dtype i4). Everything but the weights' storage, and the
/// arithmetic, is the same for both.
#[derive(Debug, Clone, Copy)]
pub enum Fc1<'a> {
    /// int8 weights `[500][2450]`.
    I8(QuantLayer<'a, FC1, FC1_W_LEN>),
    /// int4 weights, 500 rows of 1,228 bytes.
    I4(QuantLayer<'a, FC1, FC1_W_LEN, [u8; FC1_I4_LEN]>),
}

impl<'a> Fc1<'a> {
    /// The int8 layer, if the weights are int8.
    pub fn int8(&self) -> Option<&QuantLayer<'a, FC1, FC1_W_LEN>> {
        match self {
            Self::I8(layer) => Some(layer),
            Self::I4(_) => None,
        }
    }

    /// The int8 layer, mutably (tests edit parameters), if the weights are int8.
    pub fn int8_mut(&mut self) -> Option<&mut QuantLayer<'a, FC1, FC1_W_LEN>> {
        match self {
            Self::I8(layer) => Some(layer),
            Self::I4(_) => None,
        }
    }

    /// Requantization constants.
    pub fn requant(&self) -> &Requant<'a, FC1> {
        match self {
            Self::I8(layer) => &layer.requant,
            Self::I4(layer) => &layer.requant,
        }
    }

    /// Bias per output unit.
    pub fn bias(&self) -> &'a [i32; FC1] {
        match self {
            Self::I8(layer) => layer.bias,
            Self::I4(layer) => layer.bias,
        }
    }

    /// Zero point of the input (pool2).
    pub fn in_zp(&self) -> i32 {
        match self {
            Self::I8(layer) => layer.in_zp,
            Self::I4(layer) => layer.in_zp,
        }
    }

    /// Bits per weight: 8 or 4.
    pub fn weight_bits(&self) -> u32 {
        match self {
            Self::I8(_) => 8,
            Self::I4(_) => 4,
        }
    }
}

impl<'a> I8Model<'a> {
    /// Runs the integer-only network on raw 8-bit pixels (row-major 28x28, 0 = background) and
    /// returns the 10 int8 logits (zero point `zero_points[4]`).
    ///
    /// With the `std` feature on x86-64 CPUs with AVX-512 VNNI or AVX2 this runs
    /// `kernels::x86::forward_i8` (bit-identical, several times faster); everywhere
    /// else it is [`I8Model::forward_portable`].
    pub fn forward(&self, pixels: &[u8; IN_LEN], scratch: &mut ScratchI8) -> [i8; CLASSES] {
        #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
        if let Some(layers) = self.x86_layers()
            && let Some(logits) =
                crate::kernels::x86::forward_i8(&layers, pixels, scratch.x86_buffers())
        {
            return logits;
        }
        self.forward_portable(pixels, scratch)
    }

    /// [`I8Model::forward`] with the portable kernels only: the reference every accelerated
    /// path must reproduce byte for byte, and what `no_std` targets always run.
    pub fn forward_portable(
        &self,
        pixels: &[u8; IN_LEN],
        scratch: &mut ScratchI8,
    ) -> [i8; CLASSES] {
        for (q, &p) in scratch.input.iter_mut().zip(pixels) {
            *q = pixel_to_i8(p);
        }
        self.run_conv1(&scratch.input, &mut scratch.pool1);
        self.run_conv2(&scratch.pool1, &mut scratch.pool2);
        self.run_fc1(&scratch.pool2, &mut scratch.fc1);
        let mut logits = [0i8; CLASSES];
        self.run_fc2(&scratch.fc1, &mut logits);
        logits
    }

    /// conv1 + ReLU + max-pool of [`I8Model::forward_portable`]: int8 input `[1][28][28]` →
    /// `[20][14][14]`. The layers are public so that a profiler can time each one as the
    /// forward pass runs it. Each `run_*` layer is out of line: compiled once, with lenet-core's
    /// own optimisation level, even inside a firmware built for size.
    #[inline(never)]
    pub fn run_conv1(&self, input: &[i8; IN_LEN], out: &mut [i8; POOL1_LEN]) {
        conv2d_relu_pool_i8::<IN_C, C1, IN_H, IN_W, IN_LEN, CONV1_W_LEN, POOL1_LEN>(
            input,
            &self.conv1,
            out,
        );
    }

    /// conv2 + ReLU + max-pool: `[20][14][14]` → `[50][7][7]` (the flattened 2,450 inputs of fc1).
    #[inline(never)]
    pub fn run_conv2(&self, input: &[i8; POOL1_LEN], out: &mut [i8; FLAT]) {
        conv2d_relu_pool_i8::<C1, C2, P1, P1, POOL1_LEN, CONV2_W_LEN, FLAT>(
            input,
            &self.conv2,
            out,
        );
    }

    /// fc1 + ReLU: 2,450 → 500.
    #[inline(never)]
    pub fn run_fc1(&self, input: &[i8; FLAT], out: &mut [i8; FC1]) {
        match &self.fc1 {
            Fc1::I8(layer) => dense_i8(input, layer, out),
            Fc1::I4(layer) => dense_i4(input, layer, out),
        }
    }

    /// fc2: 500 → the 10 int8 logits.
    #[inline(never)]
    pub fn run_fc2(&self, input: &[i8; FC1], out: &mut [i8; CLASSES]) {
        dense_i8(input, &self.fc2, out);
    }

    /// [`I8Model::forward`] followed by argmax.
    pub fn predict(&self, pixels: &[u8; IN_LEN], scratch: &mut ScratchI8) -> Prediction<i8> {
        let logits = self.forward(pixels, scratch);
        Prediction {
            digit: argmax_i8(&logits) as u8,
            logits,
        }
    }

    /// Scales of the input, pool1, pool2, fc1 and logits tensors as stored in the blob.
    pub fn scales(&self) -> [f32; QUANT_POINTS] {
        self.scales.map(f32::from_bits)
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
mod x86 {
    use super::I8Model;
    use crate::kernels::x86::I8Layers;

    impl<'a> I8Model<'a> {
        /// The four layers as the x86 kernels read them (`kernels::x86::forward_i8` and
        /// friends); `None` for int4 fc1 weights, which only the portable kernels run.
        pub fn x86_layers(&self) -> Option<I8Layers<'a>> {
            Some(I8Layers {
                conv1: self.conv1,
                conv2: self.conv2,
                fc1: *self.fc1.int8()?,
                fc2: self.fc2,
            })
        }
    }
}
