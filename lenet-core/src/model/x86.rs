//! x86-64 (`std`): the int8 model with its convolution weights repacked once for
//! `kernels::x86` (the f32 kernels need no repacking: `F32Model::forward` runs them as it is).
//! The kernels take plain views ([`I8Layers`](crate::kernels::x86::I8Layers),
//! [`I8Buffers`](crate::kernels::x86::I8Buffers), …), which the models build
//! (`I8Model::x86_layers`, `ScratchI8::x86_buffers`, …); this type falls back to the portable
//! kernels where the kernels return `None`.

use std::boxed::Box;

use super::int8::I8Model;
use super::scratch::ScratchI8;
use crate::kernels::x86::{I8Isa, PackedI8Layers};
use crate::shape::{CLASSES, IN_LEN};

/// An [`I8Model`] with its convolution weights repacked once for the int8 AVX-512 VNNI or
/// AVX2 kernels (33,280 B of packed weights on the heap).
///
/// [`PackedI8::forward`] gives exactly the bytes of [`I8Model::forward`] (and of the portable
/// kernels) on every CPU; it is faster on CPUs with AVX-512 VNNI or AVX2, where it skips the
/// per-call repacking that [`I8Model::forward`] does. Build it once per model:
///
/// ```
/// use lenet_core::{Model, ScratchI8, model::PackedI8};
/// # fn run(model: &Model<'_>) {
/// let packed = PackedI8::new(model.int8().unwrap());
/// let mut scratch = ScratchI8::new();
/// let logits = packed.forward(&[0u8; 784], &mut scratch);
/// # let _ = logits;
/// # }
/// ```
pub struct PackedI8<'a> {
    model: I8Model<'a>,
    /// `None` for a model the x86 kernels cannot run (int4 fc1 weights).
    layers: Option<PackedI8Layers<'a>>,
}

impl<'a> PackedI8<'a> {
    /// Repacks `model`'s weights (no-op but a copy of the views when no fast path can run).
    pub fn new(model: &I8Model<'a>) -> Box<Self> {
        Box::new(Self {
            model: *model,
            layers: model.x86_layers().map(|l| PackedI8Layers::new(&l)),
        })
    }

    /// The model it was built from.
    pub fn model(&self) -> &I8Model<'a> {
        &self.model
    }

    /// The int8 kernel family [`PackedI8::forward`] runs (`None`: the portable kernels).
    pub fn isa(&self) -> Option<I8Isa> {
        self.layers.as_ref()?.isa()
    }

    /// Same contract and result as [`I8Model::forward`].
    pub fn forward(&self, pixels: &[u8; IN_LEN], scratch: &mut ScratchI8) -> [i8; CLASSES] {
        if let Some(layers) = &self.layers
            && let Some(logits) = layers.forward(pixels, scratch.x86_buffers())
        {
            return logits;
        }
        self.model.forward_portable(pixels, scratch)
    }

    /// Only the two convolutions of [`PackedI8::forward`] (for the per-layer benchmark;
    /// nothing without a fast path).
    #[doc(hidden)]
    pub fn forward_convs(&self, pixels: &[u8; IN_LEN], scratch: &mut ScratchI8) {
        if let Some(layers) = &self.layers {
            layers.forward_convs(pixels, scratch.x86_buffers());
        }
    }
}
