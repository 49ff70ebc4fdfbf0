//! `no_std`, allocation-free inference of the seed LeNet MNIST classifier.
//!
//! - [`Model::parse`] validates a weight blob (format in [`blob`] and `docs/weight-blob.md`) in
//!   place and hands out typed views: no copy, no heap. [`I8Model::parse`] makes the same checks
//!   and returns the int8 model alone (less code for int8-only firmware).
//! - [`F32Model::forward`] runs the float network; [`I8Model::forward`] runs the integer-only
//!   int8 network (arithmetic in [`quant`] and `docs/quantization.md`), the same code on a host and
//!   on a Cortex-M.
//! - Buffers are caller-owned ([`ScratchF32`], [`ScratchI8`]); after parsing nothing can fail.
//! - [`golden`] reads and writes golden vectors (images with the int8 answers a blob must give,
//!   `docs/golden-vectors.md`); [`aligned`] holds blob bytes at the alignment parsing needs.
//!
//! ```
//! use lenet_core::{Model, ScratchI8, aligned::AlignedBytes, blob::{BlobWriter, Activation, SectionId}};
//!
//! # fn blob() -> Vec<u8> {
//! #     let mut w = BlobWriter::new(Activation::Relu);
//! #     for &s in SectionId::F32_SET.iter() { w.add_f32(s, &vec![0.01; s.elements()]).unwrap(); }
//! #     w.finish().unwrap()
//! # }
//! # let bytes = blob();
//! // Blobs must start 4-byte aligned: copy them into aligned storage (firmware embeds them in an
//! // `Aligned` static).
//! let blob = AlignedBytes::new(&bytes);
//! let model = Model::parse(blob.bytes())?;
//! let f32_model = model.f32().expect("this blob carries the f32 model");
//! let image = lenet_core::pixels_to_f32(&[0u8; 784]);
//! let prediction = f32_model.predict(&image, &mut lenet_core::ScratchF32::new());
//! assert!(prediction.digit < 10);
//! # let _ = ScratchI8::new();
//! # Ok::<(), lenet_core::BlobError>(())
//! ```
#![no_std]
#![deny(missing_docs)]
#![deny(unsafe_code)]

#[cfg(target_endian = "big")]
compile_error!(
    "lenet-core views little-endian blob data in place and needs a little-endian target"
);

#[cfg(feature = "std")]
extern crate std;

pub mod aligned;
pub mod blob;
pub mod golden;
pub mod kernels;
pub mod model;
pub mod protocol;
pub mod quant;
#[doc(hidden)]
pub mod reference;
pub mod shape;

pub use aligned::Aligned;
pub use blob::BlobError;
pub use model::{
    F32Model, Fc1, I8Model, Model, Prediction, ScratchF32, ScratchF32Batch, ScratchI8,
    pixels_to_f32,
};
