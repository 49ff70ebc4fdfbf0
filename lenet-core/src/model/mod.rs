//! Typed, zero-copy views of a parsed blob and the two forward passes.
//!
//! [`Model::parse`] (in `parse.rs`) checks a blob once and builds the views; [`F32Model`]
//! (`float.rs`) and [`I8Model`] (`int8.rs`) run the networks through [`crate::kernels`] into
//! caller-owned buffers (`scratch.rs`). On x86-64 with `std`, `x86.rs` adds the models with their
//! weights repacked for `kernels::x86`. The dependencies run one way: parsing uses the models,
//! the models use the kernels, and no kernel uses the model.

mod float;
mod int8;
mod parse;
mod prediction;
mod scratch;
#[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
mod x86;

pub use float::{F32Model, pixels_to_f32};
pub use int8::{Fc1, I8Model};
pub use parse::Model;
pub use prediction::Prediction;
pub use scratch::{ScratchF32, ScratchF32Batch, ScratchI8};
#[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
pub use x86::PackedI8;
