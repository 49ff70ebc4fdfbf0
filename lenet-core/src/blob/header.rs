//! The fixed 32-byte header: its constants, its field ranges, and the one encoder and decoder
//! that the writer, the reader and the tests share.
//!
//! ```text
//! offset  size  field                                    constant
//!      0     4  magic "LNET"                             Header::MAGIC_AT
//!      4     2  version (1)                              Header::VERSION_AT
//!      6     2  model kind (1 = the seed LeNet)          Header::MODEL_AT
//!      8     4  total length of the blob in bytes        Header::TOTAL_LEN_AT
//!     12     4  CRC-32 of bytes [16, total length)       Header::CRC32_AT
//!     16     1  activation (0 = ReLU, 1 = tanh)          Header::ACTIVATION_AT
//!     17     1  reserved, 0                              Header::RESERVED_AT[0]
//!     18     2  section count N (1..=32)                 Header::SECTION_COUNT_AT
//!     20    12  reserved, 0                              Header::RESERVED_AT[1]
//! ```
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use core::ops::Range;

use super::activation::Activation;
use super::error::BlobError;
use super::le::{check_reserved, put, u16_at, u32_at};

/// The four bytes every blob starts with.
pub const MAGIC: [u8; 4] = *b"LNET";
/// The format version this crate reads and writes.
pub const VERSION: u16 = 1;
/// Model kind of the seed LeNet (the only kind defined by version 1).
pub const MODEL_LENET: u16 = 1;
/// Bytes in the fixed header.
pub const HEADER_LEN: usize = 32;
/// Most sections a blob may declare.
pub const MAX_SECTIONS: u16 = 32;
/// The CRC-32 covers the blob from this offset to its end (everything after the CRC field).
pub const CRC_START: usize = Header::CRC32_AT.end;

/// The fixed 32-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Format version ([`VERSION`]).
    pub version: u16,
    /// Model kind ([`MODEL_LENET`]).
    pub model: u16,
    /// Total length of the blob in bytes.
    pub total_len: u32,
    /// CRC-32 of bytes `[CRC_START, total_len)`.
    pub crc32: u32,
    /// Hidden-layer activation.
    pub activation: Activation,
    /// Number of section-table entries.
    pub section_count: u16,
}

impl Header {
    /// Bytes of the magic ([`MAGIC`]).
    pub const MAGIC_AT: Range<usize> = 0..4;
    /// Bytes of the format version (`u16`).
    pub const VERSION_AT: Range<usize> = 4..6;
    /// Bytes of the model kind (`u16`).
    pub const MODEL_AT: Range<usize> = 6..8;
    /// Bytes of the total length (`u32`).
    pub const TOTAL_LEN_AT: Range<usize> = 8..12;
    /// Bytes of the CRC-32 (`u32`).
    pub const CRC32_AT: Range<usize> = 12..16;
    /// Offset of the activation code (`u8`, [`Activation::code`]).
    pub const ACTIVATION_AT: usize = 16;
    /// Bytes of the section count (`u16`).
    pub const SECTION_COUNT_AT: Range<usize> = 18..20;
    /// The reserved bytes, which must be zero.
    pub const RESERVED_AT: [Range<usize>; 2] = [17..18, 20..HEADER_LEN];

    /// Serialises the header; reserved bytes are zero.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        put(&mut b, Self::MAGIC_AT, &MAGIC);
        put(&mut b, Self::VERSION_AT, &self.version.to_le_bytes());
        put(&mut b, Self::MODEL_AT, &self.model.to_le_bytes());
        put(&mut b, Self::TOTAL_LEN_AT, &self.total_len.to_le_bytes());
        put(&mut b, Self::CRC32_AT, &self.crc32.to_le_bytes());
        if let Some(a) = b.get_mut(Self::ACTIVATION_AT) {
            *a = self.activation.code();
        }
        put(
            &mut b,
            Self::SECTION_COUNT_AT,
            &self.section_count.to_le_bytes(),
        );
        b
    }

    /// Reads and checks the header at the start of `bytes`, the buffer that holds the blob.
    ///
    /// The checks, in this order (step 2 of `docs/weight-blob.md`'s validation): at least
    /// [`HEADER_LEN`] bytes; magic; version; model kind; a total length of at least
    /// [`HEADER_LEN`] and at most `bytes.len()`; activation code; reserved bytes zero; section
    /// count in `1..=`[`MAX_SECTIONS`]. The CRC is read, not verified (that needs the whole blob).
    ///
    /// # Errors
    /// [`BlobError::TooShort`], [`BlobError::BadMagic`], [`BlobError::UnsupportedVersion`],
    /// [`BlobError::UnsupportedModel`], [`BlobError::BadActivation`],
    /// [`BlobError::ReservedNonZero`] or [`BlobError::BadSectionCount`].
    pub fn decode(bytes: &[u8]) -> Result<Self, BlobError> {
        let got = bytes.len();
        let short = || BlobError::too_short(HEADER_LEN, got);
        if got < HEADER_LEN {
            return Err(short());
        }
        let magic = bytes.get(Self::MAGIC_AT).ok_or_else(short)?;
        if magic != MAGIC {
            let mut found = [0u8; 4];
            found.copy_from_slice(magic);
            return Err(BlobError::BadMagic { found });
        }
        let version = u16_at(bytes, Self::VERSION_AT).ok_or_else(short)?;
        if version != VERSION {
            return Err(BlobError::UnsupportedVersion {
                found: version,
                supported: VERSION,
            });
        }
        let model = u16_at(bytes, Self::MODEL_AT).ok_or_else(short)?;
        if model != MODEL_LENET {
            return Err(BlobError::UnsupportedModel { found: model });
        }
        let total_len = u32_at(bytes, Self::TOTAL_LEN_AT).ok_or_else(short)?;
        let total =
            usize::try_from(total_len).map_err(|_| BlobError::too_short(usize::MAX, got))?;
        if total < HEADER_LEN {
            return Err(BlobError::too_short(HEADER_LEN, total));
        }
        if total > got {
            return Err(BlobError::too_short(total, got));
        }
        let crc32 = u32_at(bytes, Self::CRC32_AT).ok_or_else(short)?;
        let code = *bytes.get(Self::ACTIVATION_AT).ok_or_else(short)?;
        let activation =
            Activation::from_code(code).ok_or(BlobError::BadActivation { found: code })?;
        let [reserved_byte, reserved_tail] = Self::RESERVED_AT;
        check_reserved(bytes, reserved_byte)?;
        let section_count = u16_at(bytes, Self::SECTION_COUNT_AT).ok_or_else(short)?;
        check_reserved(bytes, reserved_tail)?;
        if section_count == 0 || section_count > MAX_SECTIONS {
            return Err(BlobError::BadSectionCount {
                found: section_count,
            });
        }
        Ok(Self {
            version,
            model,
            total_len,
            crc32,
            activation,
            section_count,
        })
    }
}

// The fields tile the header: each starts where the one before ends.
const _: () = {
    let [reserved_byte, reserved_tail] = Header::RESERVED_AT;
    assert!(Header::MAGIC_AT.start == 0 && Header::MAGIC_AT.end == MAGIC.len());
    assert!(Header::VERSION_AT.start == Header::MAGIC_AT.end);
    assert!(Header::MODEL_AT.start == Header::VERSION_AT.end);
    assert!(Header::TOTAL_LEN_AT.start == Header::MODEL_AT.end);
    assert!(Header::CRC32_AT.start == Header::TOTAL_LEN_AT.end);
    assert!(Header::ACTIVATION_AT == Header::CRC32_AT.end);
    assert!(reserved_byte.start == Header::ACTIVATION_AT + 1);
    assert!(Header::SECTION_COUNT_AT.start == reserved_byte.end);
    assert!(reserved_tail.start == Header::SECTION_COUNT_AT.end);
    assert!(reserved_tail.end == HEADER_LEN);
    assert!(CRC_START == 16);
};

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    const HEADER: Header = Header {
        version: VERSION,
        model: MODEL_LENET,
        total_len: 480,
        crc32: 0x30ee_81e7,
        activation: Activation::Tanh,
        section_count: 14,
    };

    #[test]
    fn encode_places_every_field_at_its_documented_offset() {
        let b = HEADER.encode();
        assert_eq!(
            b,
            [
                b'L', b'N', b'E', b'T', 1, 0, 1, 0, 0xe0, 0x01, 0, 0, 0xe7, 0x81, 0xee, 0x30, 1, 0,
                14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ]
        );
    }

    #[test]
    fn decode_reads_what_encode_wrote() {
        let mut buffer = [0u8; 480];
        buffer[..HEADER_LEN].copy_from_slice(&HEADER.encode());
        assert_eq!(Header::decode(&buffer), Ok(HEADER));
        assert_eq!(
            Header::decode(&buffer[..HEADER_LEN]),
            Err(BlobError::TooShort {
                needed: 480,
                got: HEADER_LEN as u32
            })
        );
    }
}
