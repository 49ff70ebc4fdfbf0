//! Golden vectors: images with the int8 result the host computed for them.
//!
//! The format and its reader are lenet-core's ([`lenet_core::golden`], specified in
//! `docs/golden-vectors.md`): a plain concatenation of [`RECORD_LEN`]-byte records, each an
//! image, its label, and the digit and logits the int8 model must produce for it.

pub use lenet_core::golden::{Golden, GoldenError, RECORD_LEN, Record as GoldenRecord};
