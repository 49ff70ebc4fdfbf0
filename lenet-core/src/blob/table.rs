//! The section table: its 32-byte entries (field ranges, encoder, decoder) and where entries and
//! section data may lie.
//!
//! ```text
//! offset size field                                                  constant
//!      0    2 section id                                             SectionEntry::ID_AT
//!      2    1 dtype code (1 = f32, 2 = i8, 3 = i32, 4 = i4)          SectionEntry::DTYPE_AT
//!      3    1 rank (1..=4)                                           SectionEntry::RANK_AT
//!      4   16 dims[4], u32 each; dims past the rank are 0            SectionEntry::dim_at(i)
//!     20    4 data offset from the start of the blob (multiple of 16) SectionEntry::OFFSET_AT
//!     24    4 data length in bytes                                   SectionEntry::LEN_AT
//!     28    4 reserved, 0                                            SectionEntry::RESERVED_AT
//! ```
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use core::ops::Range;

use super::header::{HEADER_LEN, MAX_SECTIONS};
use super::le::{put, u16_at, u32_at};
use super::section::SectionId;

/// Bytes in one section-table entry.
pub const ENTRY_LEN: usize = 32;
/// Every section's offset is a multiple of this; it lets `f32`/`i32` data be viewed in place and
/// matches the widest SIMD load kernels use.
pub const ALIGN: usize = 16;

const _: () = assert!(HEADER_LEN.is_multiple_of(ALIGN) && ENTRY_LEN.is_multiple_of(ALIGN));
const _: () = assert!(table_end(MAX_SECTIONS as usize).is_some());

/// Rounds `n` up to the next multiple of [`ALIGN`]; `None` on overflow. Used by both the writer and
/// the reader so that they agree on padding.
#[allow(clippy::arithmetic_side_effects)] // v / ALIGN * ALIGN <= v
pub const fn align_up(n: usize) -> Option<usize> {
    match n.checked_add(ALIGN - 1) {
        Some(v) => Some(v / ALIGN * ALIGN),
        None => None,
    }
}

/// Offset of table entry `index` from the start of the blob (`None` on overflow).
pub const fn entry_offset(index: usize) -> Option<usize> {
    match index.checked_mul(ENTRY_LEN) {
        Some(n) => n.checked_add(HEADER_LEN),
        None => None,
    }
}

/// End of a table of `count` entries, where the data area begins (`None` on overflow).
pub const fn table_end(count: usize) -> Option<usize> {
    entry_offset(count)
}

/// One 32-byte section-table entry, as stored (raw codes, nothing checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionEntry {
    /// Raw section id.
    pub id: u16,
    /// Raw dtype code.
    pub dtype: u8,
    /// Rank.
    pub rank: u8,
    /// Dimensions.
    pub dims: [u32; 4],
    /// Offset of the data from the start of the blob.
    pub offset: u32,
    /// Length of the data in bytes.
    pub len: u32,
}

impl SectionEntry {
    /// Bytes of the section id (`u16`).
    pub const ID_AT: Range<usize> = 0..2;
    /// Offset of the dtype code (`u8`, [`DType::code`](super::DType::code)).
    pub const DTYPE_AT: usize = 2;
    /// Offset of the rank (`u8`).
    pub const RANK_AT: usize = 3;
    /// Bytes of the four dimensions (`u32` each, outermost first; see [`SectionEntry::dim_at`]).
    pub const DIMS_AT: Range<usize> = 4..20;
    /// Bytes of the data offset (`u32`).
    pub const OFFSET_AT: Range<usize> = 20..24;
    /// Bytes of the data length (`u32`).
    pub const LEN_AT: Range<usize> = 24..28;
    /// The reserved bytes, which must be zero.
    pub const RESERVED_AT: Range<usize> = 28..ENTRY_LEN;

    /// Bytes of dimension `i` (`0..4`, taken modulo 4; `u32`).
    #[allow(clippy::arithmetic_side_effects)] // at most 4 + 4 * 3 + 4 = 20
    pub const fn dim_at(i: usize) -> Range<usize> {
        let start = Self::DIMS_AT.start + 4 * (i % 4);
        start..start + 4
    }

    /// The entry a writer emits for `section` with `len` bytes of data placed at `offset`
    /// (`None` for a length the section cannot have, see [`SectionId::layout_for_len`]).
    pub const fn for_section(section: SectionId, offset: u32, len: usize) -> Option<Self> {
        let Some(layout) = section.layout_for_len(len) else {
            return None;
        };
        Some(Self {
            id: section.id(),
            dtype: layout.dtype.code(),
            rank: layout.rank(),
            dims: layout.dims,
            offset,
            len: len as u32,
        })
    }

    /// Serialises the entry; reserved bytes are zero.
    pub fn encode(&self) -> [u8; ENTRY_LEN] {
        let mut b = [0u8; ENTRY_LEN];
        put(&mut b, Self::ID_AT, &self.id.to_le_bytes());
        if let Some(d) = b.get_mut(Self::DTYPE_AT) {
            *d = self.dtype;
        }
        if let Some(r) = b.get_mut(Self::RANK_AT) {
            *r = self.rank;
        }
        for (i, d) in self.dims.iter().enumerate() {
            put(&mut b, Self::dim_at(i), &d.to_le_bytes());
        }
        put(&mut b, Self::OFFSET_AT, &self.offset.to_le_bytes());
        put(&mut b, Self::LEN_AT, &self.len.to_le_bytes());
        b
    }

    /// Reads the fields of a stored entry (its reserved bytes are not part of the result; a
    /// reader checks them on the bytes, [`SectionEntry::RESERVED_AT`]).
    pub fn decode(entry: &[u8; ENTRY_LEN]) -> Self {
        // Every range lies inside the 32 bytes (const-asserted below): no fallback is taken.
        let u32_field = |at| u32_at(entry, at).unwrap_or(0);
        Self {
            id: u16_at(entry, Self::ID_AT).unwrap_or(0),
            dtype: entry.get(Self::DTYPE_AT).copied().unwrap_or(0),
            rank: entry.get(Self::RANK_AT).copied().unwrap_or(0),
            dims: [
                u32_field(Self::dim_at(0)),
                u32_field(Self::dim_at(1)),
                u32_field(Self::dim_at(2)),
                u32_field(Self::dim_at(3)),
            ],
            offset: u32_field(Self::OFFSET_AT),
            len: u32_field(Self::LEN_AT),
        }
    }
}

// The fields tile the entry: each starts where the one before ends.
const _: () = {
    assert!(SectionEntry::ID_AT.start == 0);
    assert!(SectionEntry::DTYPE_AT == SectionEntry::ID_AT.end);
    assert!(SectionEntry::RANK_AT == SectionEntry::DTYPE_AT + 1);
    assert!(SectionEntry::DIMS_AT.start == SectionEntry::RANK_AT + 1);
    assert!(SectionEntry::DIMS_AT.end == SectionEntry::dim_at(3).end);
    assert!(SectionEntry::OFFSET_AT.start == SectionEntry::DIMS_AT.end);
    assert!(SectionEntry::LEN_AT.start == SectionEntry::OFFSET_AT.end);
    assert!(SectionEntry::RESERVED_AT.start == SectionEntry::LEN_AT.end);
};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn entry_encode_and_decode_agree_with_the_documented_offsets() {
        let e = SectionEntry::for_section(SectionId::Conv1Requant, 1072, 160).unwrap();
        let b = e.encode();
        assert_eq!(
            b,
            [
                19, 0, 3, 2, 2, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x30, 0x04, 0, 0,
                160, 0, 0, 0, 0, 0, 0, 0
            ]
        );
        assert_eq!(SectionEntry::decode(&b), e);
    }

    #[test]
    fn table_offsets() {
        assert_eq!(entry_offset(0), Some(HEADER_LEN));
        assert_eq!(table_end(14), Some(480));
        assert_eq!(entry_offset(usize::MAX), None);
        assert_eq!(align_up(481), Some(496));
        assert_eq!(align_up(usize::MAX), None);
    }
}
