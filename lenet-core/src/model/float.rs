//! The f32 model: its parameters and its forward pass.

use super::prediction::Prediction;
use super::scratch::{ScratchF32, ScratchF32Batch};
use crate::blob::Activation;
use crate::kernels::act::argmax_f32;
use crate::kernels::conv::conv2d_act_pool_f32;
use crate::kernels::dense::dense_f32;
use crate::shape::{
    C1, C2, CLASSES, CONV1_W_LEN, CONV2_W_LEN, F32_BATCH, FC1, FC1_W_LEN, FC2_W_LEN, FLAT, IN_C,
    IN_H, IN_LEN, IN_W, P1, POOL1_LEN,
};

/// The f32 model's parameters, borrowed from the blob.
#[derive(Debug, Clone, Copy)]
pub struct F32Model<'a> {
    /// Hidden-layer activation.
    pub activation: Activation,
    /// conv1 weights, OIHW `[20][1][5][5]`.
    pub conv1_w: &'a [f32; CONV1_W_LEN],
    /// conv1 bias `[20]`.
    pub conv1_b: &'a [f32; C1],
    /// conv2 weights, OIHW `[50][20][5][5]`.
    pub conv2_w: &'a [f32; CONV2_W_LEN],
    /// conv2 bias `[50]`.
    pub conv2_b: &'a [f32; C2],
    /// fc1 weights `[500][2450]`.
    pub fc1_w: &'a [f32; FC1_W_LEN],
    /// fc1 bias `[500]`.
    pub fc1_b: &'a [f32; FC1],
    /// fc2 weights `[10][500]`.
    pub fc2_w: &'a [f32; FC2_W_LEN],
    /// fc2 bias `[10]`.
    pub fc2_b: &'a [f32; CLASSES],
}

impl F32Model<'_> {
    /// Runs the f32 network on a CHW `[1][28][28]` image (pixels scaled to `[0, 1]` by
    /// [`pixels_to_f32`]) and returns the 10 logits. Softmax is left to the caller.
    ///
    /// With the `std` feature on x86-64 CPUs with AVX-512 this runs
    /// `kernels::x86::forward_f32` (bit-identical); everywhere else it is
    /// [`F32Model::forward_portable`].
    pub fn forward(&self, input: &[f32; IN_LEN], scratch: &mut ScratchF32) -> [f32; CLASSES] {
        #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
        if let Some(logits) =
            crate::kernels::x86::forward_f32(&self.x86_layers(), input, scratch.x86_buffers())
        {
            return logits;
        }
        self.forward_portable(input, scratch)
    }

    /// [`F32Model::forward`] with the portable kernels only: the reference every accelerated
    /// path must reproduce bit for bit, and what `no_std` targets always run.
    pub fn forward_portable(
        &self,
        input: &[f32; IN_LEN],
        scratch: &mut ScratchF32,
    ) -> [f32; CLASSES] {
        let act = self.activation;
        conv2d_act_pool_f32::<IN_C, C1, IN_H, IN_W, IN_LEN, CONV1_W_LEN, POOL1_LEN>(
            input,
            self.conv1_w,
            self.conv1_b,
            act,
            &mut scratch.pool1,
        );
        conv2d_act_pool_f32::<C1, C2, P1, P1, POOL1_LEN, CONV2_W_LEN, FLAT>(
            &scratch.pool1,
            self.conv2_w,
            self.conv2_b,
            act,
            &mut scratch.pool2,
        );
        dense_f32(
            &scratch.pool2,
            self.fc1_w,
            self.fc1_b,
            Some(act),
            &mut scratch.fc1,
        );
        let mut logits = [0.0f32; CLASSES];
        dense_f32(&scratch.fc1, self.fc2_w, self.fc2_b, None, &mut logits);
        logits
    }

    /// [`F32Model::forward`] on every image of `inputs`: `logits[i]` gets the logits of
    /// `inputs[i]`, bit for bit. Faster per image than one call per image where the x86 kernels
    /// run (`kernels::x86::forward_f32_batch`): the convolution weights are transposed once per
    /// call, 16 images share each vector instruction of the convolutions, and groups of
    /// [`F32_BATCH`] images share one pass over fc1's weights; call it with many images at once.
    /// Elsewhere it is [`F32Model::forward_portable`] in a loop. `scratch` is left with the last
    /// group's pooled conv2 and fc1 outputs ([`ScratchF32Batch::pool2`]).
    ///
    /// # Panics
    /// If `inputs` and `logits` differ in length.
    pub fn forward_batch(
        &self,
        inputs: &[[f32; IN_LEN]],
        scratch: &mut ScratchF32Batch,
        logits: &mut [[f32; CLASSES]],
    ) {
        assert_eq!(
            inputs.len(),
            logits.len(),
            "forward_batch: one row of logits per input"
        );
        #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
        if crate::kernels::x86::forward_f32_batch(
            &self.x86_layers(),
            inputs,
            scratch.x86_buffers(),
            logits,
        ) {
            return;
        }
        for (xs, ls) in inputs.chunks(F32_BATCH).zip(logits.chunks_mut(F32_BATCH)) {
            for (i, (x, l)) in xs.iter().zip(ls).enumerate() {
                *l = self.forward_portable(x, &mut scratch.one);
                scratch.pool2[i] = scratch.one.pool2;
                scratch.fc1[i] = scratch.one.fc1;
            }
        }
    }

    /// [`F32Model::forward`] followed by argmax.
    pub fn predict(&self, input: &[f32; IN_LEN], scratch: &mut ScratchF32) -> Prediction<f32> {
        let logits = self.forward(input, scratch);
        Prediction {
            digit: argmax_f32(&logits) as u8,
            logits,
        }
    }
}

/// Scales raw 8-bit pixels to `[0, 1]` (`p / 255`), the f32 network's input.
pub fn pixels_to_f32(pixels: &[u8; IN_LEN]) -> [f32; IN_LEN] {
    pixels.map(|p| f32::from(p) / 255.0)
}

#[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
mod x86 {
    use super::F32Model;
    use crate::kernels::x86::F32Layers;

    impl<'a> F32Model<'a> {
        /// The parameters as the x86 kernels read them (`kernels::x86::forward_f32` and
        /// friends).
        pub fn x86_layers(&self) -> F32Layers<'a> {
            F32Layers {
                activation: self.activation,
                conv1_w: self.conv1_w,
                conv1_b: self.conv1_b,
                conv2_w: self.conv2_w,
                conv2_b: self.conv2_b,
                fc1_w: self.fc1_w,
                fc1_b: self.fc1_b,
                fc2_w: self.fc2_w,
                fc2_b: self.fc2_b,
            }
        }
    }
}
