//! The weight blob and golden vectors embedded at build time.
//!
//! `build.rs` resolves `LENET_BLOB` (default `../tests/fixtures/lenet-int8.blob`) and
//! `LENET_GOLDEN` (default `../tests/fixtures/golden.bin`); a rebuild follows any change of either
//! variable or file.

use lenet_core::aligned::{A16, Aligned};
use lenet_core::{BlobError, I8Model};

use crate::golden::{Golden, GoldenError};

/// Bytes of the embedded blob.
pub const WEIGHTS_LEN: usize = include_bytes!(env!("LENET_BLOB_PATH")).len();

/// A named static (not an anonymous constant), so that size tools can attribute flash to it. On
/// `mps3-an547` it has a section of its own, which the memory map places outside the ITCM.
/// 16-byte aligned in flash, so `f32`/`i32` sections are viewed in place.
#[cfg_attr(board = "mps3-an547", unsafe(link_section = ".weights"))]
static WEIGHTS: Aligned<A16, [u8; WEIGHTS_LEN]> =
    Aligned::new(*include_bytes!(env!("LENET_BLOB_PATH")));

static GOLDEN: [u8; include_bytes!(env!("LENET_GOLDEN_PATH")).len()] =
    *include_bytes!(env!("LENET_GOLDEN_PATH"));

/// The embedded weight blob.
pub fn weights() -> &'static [u8] {
    &WEIGHTS[..]
}

/// The embedded golden vectors.
pub fn golden_bytes() -> &'static [u8] {
    &GOLDEN
}

/// Parses the embedded blob and returns its int8 model (`I8Model::parse`: every check of the
/// full parser, without the f32 model's views).
///
/// # Errors
/// [`BlobError`] when the blob is malformed or has no int8 model.
// Out of line: the parser's locals (the section table) then live in a frame of
// their own, popped before inference, instead of in the caller's frame under the inference's.
#[inline(never)]
pub fn int8_model() -> Result<I8Model<'static>, BlobError> {
    I8Model::parse(weights())
}

/// Parses the embedded golden vectors.
///
/// # Errors
/// [`GoldenError`] when the file is empty or not a whole number of records.
pub fn golden() -> Result<Golden<'static>, GoldenError> {
    Golden::parse(&GOLDEN)
}
