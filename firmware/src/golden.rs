//! Golden vectors: images with the int8 result the host computed for them.
//!
//! The file is a plain concatenation of [`RECORD_LEN`]-byte records:
//!
//! ```text
//! offset  size  field
//!      0   784  pixels, row-major 28x28, u8
//!    784     1  label (the true digit)
//!    785     1  expected int8 prediction (digit)
//!    786    10  expected int8 logits (i8)
//! ```

use lenet_core::shape::{CLASSES, IN_LEN};

/// Bytes per record.
pub const RECORD_LEN: usize = IN_LEN + 2 + CLASSES;

/// One golden record, borrowed from the file.
#[derive(Debug, Clone, Copy)]
pub struct GoldenRecord<'a> {
    /// The image.
    pub pixels: &'a [u8; IN_LEN],
    /// Its true digit.
    pub label: u8,
    /// The digit the int8 model must predict.
    pub digit: u8,
    /// The logits the int8 model must produce, bit for bit.
    pub logits: [i8; CLASSES],
}

/// Why a golden file was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, defmt::Format)]
pub enum GoldenError {
    /// The file holds no record.
    Empty,
    /// The length is not a multiple of [`RECORD_LEN`].
    Truncated {
        /// File length in bytes.
        len: u32,
        /// Bytes after the last whole record.
        trailing: u32,
    },
}

/// A validated golden file.
#[derive(Debug, Clone, Copy)]
pub struct Golden<'a> {
    bytes: &'a [u8],
}

impl<'a> Golden<'a> {
    /// Checks that `bytes` is a non-empty whole number of records.
    ///
    /// # Errors
    /// [`GoldenError::Empty`] or [`GoldenError::Truncated`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, GoldenError> {
        let trailing = bytes.len() % RECORD_LEN;
        if trailing != 0 {
            return Err(GoldenError::Truncated {
                len: bytes.len() as u32,
                trailing: trailing as u32,
            });
        }
        if bytes.is_empty() {
            return Err(GoldenError::Empty);
        }
        Ok(Self { bytes })
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.bytes.len() / RECORD_LEN
    }

    /// Always `false`: parsing rejects an empty file.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The records in file order.
    pub fn records(&self) -> impl Iterator<Item = GoldenRecord<'a>> + use<'a> {
        self.bytes.chunks_exact(RECORD_LEN).filter_map(|chunk| {
            let (pixels, rest) = chunk.split_first_chunk::<IN_LEN>()?;
            let [label, digit, logits @ ..] = *<&[u8; 2 + CLASSES]>::try_from(rest).ok()?;
            Some(GoldenRecord {
                pixels,
                label,
                digit,
                logits: logits.map(|b| b as i8),
            })
        })
    }
}
