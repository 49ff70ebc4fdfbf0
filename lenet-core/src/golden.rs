//! Golden vectors: test images with the int8 answer a blob must give for them, bit for bit.
//!
//! `docs/golden-vectors.md` is the specification; this module is its one implementation, used by
//! the host's `golden` command (which writes the files), the firmware (which embeds and replays
//! them), the serial check and the tests.
//!
//! A golden file is a plain concatenation of [`RECORD_LEN`]-byte records, with no file header:
//!
//! ```text
//! offset  size  field
//!      0   784  image: raw pixels, row-major 28x28, u8 (0 = background)
//!    784     1  label: the true digit, 0-9
//!    785     1  digit: the digit the int8 model predicts (argmax of the logits, lowest on ties)
//!    786    10  logits: the int8 model's 10 logits, two's complement i8, digit 0 first
//! ```
//!
//! ```
//! use lenet_core::Prediction;
//! use lenet_core::golden::{self, Golden, GoldenError, RECORD_LEN};
//!
//! let image = [0u8; 784];
//! let prediction = Prediction { digit: 3, logits: [-9, 0, 1, 7, -128, 127, 0, 0, 0, 0] };
//! let mut file = Vec::new();
//! file.extend_from_slice(&golden::encode(&image, 3, &prediction));
//! file.extend_from_slice(&golden::encode(&image, 8, &prediction));
//!
//! let records = Golden::parse(&file)?;
//! assert_eq!(records.len(), 2);
//! let second = records.get(1).unwrap();
//! assert_eq!((second.label(), second.digit()), (8, 3));
//! assert_eq!(second.prediction(), prediction);
//! assert_eq!(
//!     Golden::parse(&file[..RECORD_LEN + 1]).err(),
//!     Some(GoldenError::Truncated { len: RECORD_LEN as u32 + 1, trailing: 1 })
//! );
//! # Ok::<(), GoldenError>(())
//! ```

use core::fmt;
use core::ops::Range;

use crate::model::Prediction;
use crate::shape::{CLASSES, IN_LEN};

/// Bytes of one record: image, label, digit, logits.
pub const RECORD_LEN: usize = IN_LEN + 2 + CLASSES;
/// Where the image lies in a record.
pub const IMAGE_AT: Range<usize> = 0..IN_LEN;
/// Offset of the label in a record.
pub const LABEL_AT: usize = IN_LEN;
/// Offset of the predicted digit in a record.
pub const DIGIT_AT: usize = IN_LEN + 1;
/// Where the logits lie in a record.
pub const LOGITS_AT: Range<usize> = IN_LEN + 2..RECORD_LEN;

const _: () = assert!(RECORD_LEN == 796 && IMAGE_AT.start == 0);
const _: () = assert!(LOGITS_AT.end - LOGITS_AT.start == CLASSES);

/// Serialises one record: `image`, its true `label`, and the int8 model's `prediction` for it.
pub fn encode(image: &[u8; IN_LEN], label: u8, prediction: &Prediction<i8>) -> [u8; RECORD_LEN] {
    let mut out = [0u8; RECORD_LEN];
    let (pixels, rest) = out.split_at_mut(IMAGE_AT.end);
    pixels.copy_from_slice(image);
    let [l, d, logits @ ..] = rest else {
        unreachable!("RECORD_LEN is IN_LEN + 2 + CLASSES")
    };
    *l = label;
    *d = prediction.digit;
    for (b, &v) in logits.iter_mut().zip(&prediction.logits) {
        *b = v.to_le_bytes()[0];
    }
    out
}

/// One record, borrowed from a golden file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    bytes: &'a [u8; RECORD_LEN],
}

impl<'a> Record<'a> {
    /// The record stored in `bytes`.
    pub const fn new(bytes: &'a [u8; RECORD_LEN]) -> Self {
        Self { bytes }
    }

    /// The image: raw pixels, row-major 28x28 (the input of
    /// [`I8Model::predict`](crate::I8Model::predict)).
    pub fn image(&self) -> &'a [u8; IN_LEN] {
        // The image is the record's first IN_LEN bytes (IMAGE_AT), so the chunk always exists;
        // the fallback keeps this free of a panic path.
        self.bytes.first_chunk::<IN_LEN>().unwrap_or(&[0; IN_LEN])
    }

    /// The true digit.
    pub fn label(&self) -> u8 {
        self.bytes[LABEL_AT]
    }

    /// The digit the int8 model must predict.
    pub fn digit(&self) -> u8 {
        self.bytes[DIGIT_AT]
    }

    /// The logits the int8 model must produce, bit for bit.
    pub fn logits(&self) -> [i8; CLASSES] {
        core::array::from_fn(|i| i8::from_le_bytes([self.bytes[LOGITS_AT.start + i]]))
    }

    /// The expected prediction: [`Record::digit`] and [`Record::logits`].
    pub fn prediction(&self) -> Prediction<i8> {
        Prediction {
            digit: self.digit(),
            logits: self.logits(),
        }
    }

    /// The record's bytes.
    pub fn as_bytes(&self) -> &'a [u8; RECORD_LEN] {
        self.bytes
    }
}

/// Why [`Golden::parse`] rejected a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum GoldenError {
    /// The file holds no record.
    Empty,
    /// The length is not a multiple of [`RECORD_LEN`].
    Truncated {
        /// File length in bytes (saturated at `u32::MAX`).
        len: u32,
        /// Bytes after the last whole record.
        trailing: u32,
    },
}

impl fmt::Display for GoldenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Empty => write!(f, "golden file holds no record"),
            Self::Truncated { len, trailing } => write!(
                f,
                "golden file is {len} bytes, not a whole number of {RECORD_LEN}-byte records \
                 ({trailing} bytes after the last one)"
            ),
        }
    }
}

impl core::error::Error for GoldenError {}

/// A checked golden file: a non-empty whole number of records.
#[derive(Debug, Clone, Copy)]
pub struct Golden<'a> {
    bytes: &'a [u8],
}

impl<'a> Golden<'a> {
    /// Checks that `bytes` is a non-empty whole number of records.
    ///
    /// # Errors
    /// [`GoldenError::Truncated`] for a length that is not a multiple of [`RECORD_LEN`],
    /// [`GoldenError::Empty`] for no bytes at all.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, GoldenError> {
        let trailing = bytes.len() % RECORD_LEN;
        if trailing != 0 {
            return Err(GoldenError::Truncated {
                len: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
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

    /// Record `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<Record<'a>> {
        let start = index.checked_mul(RECORD_LEN)?;
        let bytes = self.bytes.get(start..)?.first_chunk::<RECORD_LEN>()?;
        Some(Record::new(bytes))
    }

    /// The records in file order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = Record<'a>> + use<'a> {
        let (chunks, _) = self.bytes.as_chunks::<RECORD_LEN>();
        chunks.iter().map(Record::new)
    }

    /// The file's bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seed: u8) -> [u8; RECORD_LEN] {
        let image = core::array::from_fn(|i| (i as u8).wrapping_mul(seed));
        let logits = core::array::from_fn(|i| (i as i8 - 5).wrapping_mul(seed as i8));
        encode(
            &image,
            seed % 10,
            &Prediction {
                digit: 9 - seed % 10,
                logits,
            },
        )
    }

    #[test]
    fn encode_lays_out_the_documented_fields() {
        let image = core::array::from_fn(|i| i as u8);
        let logits = [-128, -1, 0, 1, 127, 2, 3, 4, 5, 6];
        let r = encode(&image, 7, &Prediction { digit: 4, logits });
        assert_eq!(&r[..784], &image[..]);
        assert_eq!((r[784], r[785]), (7, 4));
        assert_eq!(r[786..], [0x80, 0xff, 0, 1, 0x7f, 2, 3, 4, 5, 6]);
        let view = Record::new(&r);
        assert_eq!(view.image(), &image);
        assert_eq!((view.label(), view.digit(), view.logits()), (7, 4, logits));
    }

    #[test]
    fn parse_counts_and_yields_records_in_order() {
        let mut file = [0u8; 3 * RECORD_LEN];
        for (k, chunk) in file.chunks_exact_mut(RECORD_LEN).enumerate() {
            chunk.copy_from_slice(&record(k as u8 + 1));
        }
        let g = Golden::parse(&file).unwrap();
        assert_eq!((g.len(), g.records().len()), (3, 3));
        for (k, r) in g.records().enumerate() {
            assert_eq!(r.as_bytes(), &record(k as u8 + 1));
            assert_eq!(g.get(k), Some(r));
        }
        assert_eq!(g.get(3), None);
        assert_eq!(g.get(usize::MAX), None);
    }

    #[test]
    fn parse_rejects_partial_and_empty_files() {
        let file = [0u8; 2 * RECORD_LEN];
        assert_eq!(Golden::parse(&[]).err(), Some(GoldenError::Empty));
        assert_eq!(
            Golden::parse(&file[..RECORD_LEN - 1]).err(),
            Some(GoldenError::Truncated {
                len: RECORD_LEN as u32 - 1,
                trailing: RECORD_LEN as u32 - 1
            })
        );
        assert_eq!(
            Golden::parse(&file[..RECORD_LEN + 10]).err(),
            Some(GoldenError::Truncated {
                len: RECORD_LEN as u32 + 10,
                trailing: 10
            })
        );
    }
}
