//! The weight blob, format v1: one little-endian file that carries the f32 model, the int8 model,
//! or both. `docs/weight-blob.md` is the byte-by-byte specification; this module is its code.
//!
//! ```text
//! offset  size  field
//!      0     4  magic "LNET"
//!      4     2  version (1)
//!      6     2  model kind (1 = the seed LeNet)
//!      8     4  total length of the blob in bytes
//!     12     4  CRC-32 (IEEE 802.3) of bytes [16, total length)
//!     16     1  activation (0 = ReLU, 1 = tanh)
//!     17     1  reserved, 0
//!     18     2  section count N (1..=32)
//!     20    12  reserved, 0
//!     32  N*32  section table (see SectionEntry)
//!      …        section data, each section at a multiple of 16; the gaps are zero bytes
//! ```
//!
//! Each part of the format is defined once, and the writer, the reader and the tests use that
//! definition: the header's fields and checks in [`Header`] (`header.rs`), the table entries in
//! [`SectionEntry`] (`table.rs`), the sections and their layouts in [`SectionId`]
//! (`section.rs`), the int4 packing in [`i4`].

mod activation;
mod crc;
mod error;
mod header;
pub mod i4;
mod le;
mod reader;
mod section;
mod table;
#[cfg(feature = "std")]
mod writer;

pub use activation::Activation;
pub use crc::crc32;
pub use error::BlobError;
pub use header::{CRC_START, HEADER_LEN, Header, MAGIC, MAX_SECTIONS, MODEL_LENET, VERSION};
pub use reader::{SectionView, Sections};
pub use section::{
    DType, Layout, PER_TENSOR_REQUANT_DIMS, PER_TENSOR_REQUANT_LEN, QUANT_POINTS, SectionId,
};
pub use table::{ALIGN, ENTRY_LEN, SectionEntry, align_up, entry_offset, table_end};
#[cfg(feature = "std")]
pub use writer::{BlobWriter, WriteError};
