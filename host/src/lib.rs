//! Host side of lenet-rs: MNIST loading, burn training, export to the weight blob, int8
//! quantization and evaluation through `lenet-core` (the same kernels the firmware runs).

#[cfg(feature = "train")]
pub mod bench;
#[cfg(feature = "train")]
pub mod conv2;
pub mod data;
pub mod eval;
pub mod export;
#[cfg(feature = "train")]
pub mod int4;
pub mod io;
#[cfg(feature = "train")]
pub mod model;
pub mod pictures;
pub mod preprocess;
#[cfg(feature = "train")]
pub mod quantize;
#[cfg(feature = "train")]
pub mod relu_pool;
/// The client of the firmware's serial service (the `lenet-serial` crate).
pub use lenet_serial as serial;
#[cfg(feature = "train")]
pub mod train;
