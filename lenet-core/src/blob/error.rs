//! Every way the bytes of a weight blob can be wrong.

use core::fmt;

use super::activation::Activation;
use super::section::SectionId;

/// Why [`Model::parse`](crate::Model::parse) rejected a blob.
///
/// Each variant carries the numbers needed to find the offending byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BlobError {
    /// The buffer does not start at a 4-byte aligned address, so `f32`/`i32` sections cannot be
    /// viewed in place. Embed the blob in an aligned wrapper (see the crate docs).
    UnalignedBuffer {
        /// The buffer's address modulo 4.
        misalignment: u8,
    },
    /// Fewer bytes than the header, the section table or the declared total length needs.
    TooShort {
        /// Bytes required.
        needed: u32,
        /// Bytes present.
        got: u32,
    },
    /// The first four bytes are not `LNET`.
    BadMagic {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// A format version this reader does not know (a newer lenet-rs wrote it, or the file is damaged).
    UnsupportedVersion {
        /// The version found.
        found: u16,
        /// The newest version this reader understands.
        supported: u16,
    },
    /// A model kind other than the seed LeNet.
    UnsupportedModel {
        /// The model kind found.
        found: u16,
    },
    /// An activation code other than 0 (ReLU) or 1 (tanh).
    BadActivation {
        /// The code found.
        found: u8,
    },
    /// The blob carries the int8 model, whose hidden layers are ReLU only, but its header's
    /// activation is another one (tanh).
    Int8NeedsRelu {
        /// The activation found.
        found: Activation,
    },
    /// A reserved header or section-table byte is not zero.
    ReservedNonZero {
        /// Offset of the byte from the start of the blob.
        offset: u32,
    },
    /// The section count is zero or larger than the format allows.
    BadSectionCount {
        /// The count found.
        found: u16,
    },
    /// The CRC-32 stored in the header does not match the bytes.
    ChecksumMismatch {
        /// CRC-32 stored in the header.
        expected: u32,
        /// CRC-32 computed over the bytes.
        found: u32,
    },
    /// A section id this version does not define.
    UnknownSection {
        /// The raw id.
        id: u16,
    },
    /// A section id appears twice.
    DuplicateSection {
        /// The repeated section.
        section: SectionId,
    },
    /// A section the model needs is absent (a precision is present only when all of its
    /// sections are).
    MissingSection {
        /// The first missing section.
        section: SectionId,
    },
    /// A section's element type is not the one its id requires.
    BadDType {
        /// The section.
        section: SectionId,
        /// The dtype code found.
        found: u8,
    },
    /// A section's rank or dimensions are not the ones its id requires.
    ShapeMismatch {
        /// The section.
        section: SectionId,
        /// The dimensions required (unused dimensions are 0).
        expected: [u32; 4],
        /// The dimensions found.
        found: [u32; 4],
    },
    /// A section's byte length is not element count x element size.
    LengthMismatch {
        /// The section.
        section: SectionId,
        /// Bytes required.
        expected: u32,
        /// Bytes declared.
        found: u32,
    },
    /// `offset + len` overflows, starts inside the header or section table, or passes the end of
    /// the blob.
    SectionOutOfBounds {
        /// The section.
        section: SectionId,
        /// Its offset.
        offset: u32,
        /// Its length.
        len: u32,
    },
    /// A section's offset is not a multiple of [`ALIGN`](super::ALIGN).
    Misaligned {
        /// The section.
        section: SectionId,
        /// Its offset.
        offset: u32,
    },
    /// A byte of the data area that no section covers (the padding between sections, or after
    /// the last one up to the total length) is not zero.
    NonZeroGap {
        /// Offset of the byte from the start of the blob.
        offset: u32,
        /// Its value.
        found: u8,
    },
    /// Two sections share bytes.
    Overlap {
        /// One section.
        section: SectionId,
        /// The section it overlaps.
        other: SectionId,
    },
    /// A quantization parameter is outside its allowed range: multiplier <= 0, shift outside
    /// `[-31, 30]`, zero point outside `[-128, 127]`, the input zero point not -128,
    /// |bias| > 2^30, a weight of -128, or a scale that is not finite and positive.
    BadQuantParam {
        /// The section holding it.
        section: SectionId,
        /// The element index within the section.
        index: u32,
    },
}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::UnalignedBuffer { misalignment } => write!(
                f,
                "blob buffer is not 4-byte aligned (address % 4 = {misalignment}); store it in an aligned buffer"
            ),
            Self::TooShort { needed, got } => {
                write!(f, "blob too short: need {needed} bytes, got {got}")
            }
            Self::BadMagic { found } => {
                write!(
                    f,
                    "not a lenet weight blob: magic {found:02x?}, expected \"LNET\""
                )
            }
            Self::UnsupportedVersion { found, supported } if found > supported => write!(
                f,
                "blob format version {found} is newer than this reader (supports up to {supported}); upgrade lenet-rs"
            ),
            Self::UnsupportedVersion { found, supported } => {
                write!(
                    f,
                    "unsupported blob format version {found} (this reader supports {supported})"
                )
            }
            Self::UnsupportedModel { found } => write!(f, "unsupported model kind {found}"),
            Self::BadActivation { found } => write!(f, "unknown activation code {found}"),
            Self::Int8NeedsRelu { found } => write!(
                f,
                "the int8 model needs ReLU, but the header's activation is {} (code {})",
                found.name(),
                found.code()
            ),
            Self::ReservedNonZero { offset } => {
                write!(f, "reserved byte at offset {offset} is not zero")
            }
            Self::BadSectionCount { found } => write!(f, "bad section count {found}"),
            Self::ChecksumMismatch { expected, found } => write!(
                f,
                "CRC-32 mismatch: header says {expected:#010x}, bytes give {found:#010x} (corrupted blob)"
            ),
            Self::UnknownSection { id } => write!(f, "unknown section id {id}"),
            Self::DuplicateSection { section } => write!(f, "section {section} appears twice"),
            Self::MissingSection { section } => write!(f, "section {section} is missing"),
            Self::BadDType { section, found } => {
                write!(
                    f,
                    "section {section}: dtype code {found} is not the one required"
                )
            }
            Self::ShapeMismatch {
                section,
                expected,
                found,
            } => {
                write!(
                    f,
                    "section {section}: shape {found:?}, expected {expected:?}"
                )
            }
            Self::LengthMismatch {
                section,
                expected,
                found,
            } => {
                write!(
                    f,
                    "section {section}: length {found} bytes, expected {expected}"
                )
            }
            Self::SectionOutOfBounds {
                section,
                offset,
                len,
            } => {
                write!(
                    f,
                    "section {section}: bytes {offset}+{len} fall outside the data area"
                )
            }
            Self::Misaligned { section, offset } => {
                write!(
                    f,
                    "section {section}: offset {offset} is not a multiple of 16"
                )
            }
            Self::NonZeroGap { offset, found } => write!(
                f,
                "byte {offset} lies between sections and must be zero, but is {found:#04x}"
            ),
            Self::Overlap { section, other } => {
                write!(f, "section {section} overlaps section {other}")
            }
            Self::BadQuantParam { section, index } => {
                write!(
                    f,
                    "section {section}: quantization parameter #{index} is out of range"
                )
            }
        }
    }
}

impl core::error::Error for BlobError {}

impl BlobError {
    /// A byte count as stored in an error (saturated at `u32::MAX`).
    pub(super) fn len_u32(n: usize) -> u32 {
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// [`BlobError::TooShort`] for `needed` bytes of which `got` are present.
    pub(super) fn too_short(needed: usize, got: usize) -> Self {
        Self::TooShort {
            needed: Self::len_u32(needed),
            got: Self::len_u32(got),
        }
    }
}
