//! Validating, zero-copy reader of the blob's header and section table.
//!
//! Every byte access goes through `get` and every offset sum through `checked_*`: hostile bytes
//! produce a [`BlobError`], never a panic.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use super::crc::crc32;
use super::error::BlobError;
use super::header::{CRC_START, Header, MAX_SECTIONS};
use super::le::{check_reserved, first_nonzero};
use super::section::{DType, Layout, SectionId};
use super::table::{ALIGN, ENTRY_LEN, SectionEntry, entry_offset, table_end};

/// One section of a parsed blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionView<'a> {
    /// Which section.
    pub id: SectionId,
    /// Its element type as stored: that of [`SectionId::layout`] or [`SectionId::alt_layout`].
    pub dtype: DType,
    /// Offset of its data from the start of the blob.
    pub offset: u32,
    /// Its data.
    pub bytes: &'a [u8],
}

impl SectionView<'_> {
    /// Its element type and dimensions as stored.
    pub fn layout(&self) -> Layout {
        // A parsed view always has a length its section allows, and the section's layouts all
        // differ in length. (The dtype and dims are not stored in the view: the firmware keeps
        // 32 views on its stack while it parses.)
        self.id.layout_for_len(self.bytes.len()).unwrap_or(Layout {
            dtype: self.dtype,
            dims: [0; 4],
        })
    }

    /// Its dimensions as stored (unused trailing ones 0).
    pub fn dims(&self) -> [u32; 4] {
        self.layout().dims
    }
}

/// The validated section table of a blob: header checked, CRC matched, every section known,
/// unique, typed, shaped, aligned, in bounds and non-overlapping, every byte between sections
/// zero.
#[derive(Debug, Clone, Copy)]
pub struct Sections<'a> {
    header: Header,
    slots: [Option<SectionView<'a>>; MAX_SECTIONS as usize],
    len: usize,
}

impl<'a> Sections<'a> {
    /// Parses and validates the header and the section table of `bytes`.
    ///
    /// Bytes after the header's total length are ignored (a blob may sit at the start of a
    /// larger flash partition).
    ///
    /// # Errors
    /// Every malformation is a distinct [`BlobError`]; see its variants.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BlobError> {
        let got = bytes.len();
        let misalignment = (bytes.as_ptr() as usize % 4) as u8;
        if misalignment != 0 {
            return Err(BlobError::UnalignedBuffer { misalignment });
        }
        let header = Header::decode(bytes)?;
        // decode checked total_len <= got, so it fits a usize.
        let total = header.total_len as usize;
        let count = usize::from(header.section_count);
        // count <= MAX_SECTIONS, so this cannot overflow.
        let table_end = table_end(count).unwrap_or(usize::MAX);
        if table_end > total {
            return Err(BlobError::too_short(table_end, total));
        }
        let blob = bytes
            .get(..total)
            .ok_or_else(|| BlobError::too_short(total, got))?;
        let crc_found = crc32(
            blob.get(CRC_START..)
                .ok_or_else(|| BlobError::too_short(total, got))?,
        );
        if crc_found != header.crc32 {
            return Err(BlobError::ChecksumMismatch {
                expected: header.crc32,
                found: crc_found,
            });
        }

        let mut out = Sections {
            header,
            slots: [None; MAX_SECTIONS as usize],
            len: 0,
        };
        for i in 0..count {
            let base = entry_offset(i).unwrap_or(usize::MAX);
            let view = parse_entry(blob, base, table_end)?;
            for other in out.iter() {
                if other.id == view.id {
                    return Err(BlobError::DuplicateSection { section: view.id });
                }
                let (a0, a1) = span(&view);
                let (b0, b1) = span(&other);
                if a0 < b1 && b0 < a1 {
                    return Err(BlobError::Overlap {
                        section: view.id,
                        other: other.id,
                    });
                }
            }
            let slot = out.slots.get_mut(i).ok_or(BlobError::BadSectionCount {
                found: header.section_count,
            })?;
            *slot = Some(view);
            out.len = i.saturating_add(1);
        }
        out.check_gaps(blob, table_end)?;
        Ok(out)
    }

    /// Checks that every byte of the data area `blob[table_end..]` outside the sections is zero:
    /// the gaps are visited in address order, whatever the table order.
    fn check_gaps(&self, blob: &[u8], table_end: usize) -> Result<(), BlobError> {
        let mut cursor = table_end;
        loop {
            // The section that starts first at or after `cursor` (sections do not overlap).
            let next = self
                .iter()
                .map(|v| span(&v))
                .filter(|&(start, _)| start >= cursor)
                .min_by_key(|&(start, _)| start);
            let gap_end = next.map_or(blob.len(), |(start, _)| start);
            if let Some((offset, found)) = first_nonzero(blob, cursor..gap_end)? {
                return Err(BlobError::NonZeroGap {
                    offset: BlobError::len_u32(offset),
                    found,
                });
            }
            match next {
                Some((_, end)) => cursor = end,
                None => return Ok(()),
            }
        }
    }

    /// The parsed header.
    pub fn header(&self) -> Header {
        self.header
    }

    /// The sections in table order.
    pub fn iter(&self) -> impl Iterator<Item = SectionView<'a>> + '_ {
        self.slots.iter().take(self.len).flatten().copied()
    }

    /// The data of section `id`, if present.
    pub fn get(&self, id: SectionId) -> Option<&'a [u8]> {
        self.iter().find(|s| s.id == id).map(|s| s.bytes)
    }

    /// Whether section `id` is present.
    pub fn contains(&self, id: SectionId) -> bool {
        self.get(id).is_some()
    }
}

fn span(v: &SectionView<'_>) -> (usize, usize) {
    let start = v.offset as usize;
    (start, start.saturating_add(v.bytes.len()))
}

fn parse_entry<'a>(
    blob: &'a [u8],
    base: usize,
    table_end: usize,
) -> Result<SectionView<'a>, BlobError> {
    let got = blob.len();
    let entry_end = base
        .checked_add(ENTRY_LEN)
        .ok_or_else(|| BlobError::too_short(usize::MAX, got))?;
    let entry = blob
        .get(base..entry_end)
        .ok_or_else(|| BlobError::too_short(entry_end, got))?;
    let entry =
        <&[u8; ENTRY_LEN]>::try_from(entry).map_err(|_| BlobError::too_short(entry_end, got))?;
    let SectionEntry {
        id: raw_id,
        dtype,
        rank,
        dims,
        offset,
        len,
    } = SectionEntry::decode(entry);
    let id = SectionId::from_id(raw_id).ok_or(BlobError::UnknownSection { id: raw_id })?;
    let layout = match id.layout_for(dtype, dims) {
        Ok(layout) => layout,
        Err(false) => {
            return Err(BlobError::BadDType {
                section: id,
                found: dtype,
            });
        }
        Err(true) => {
            return Err(BlobError::ShapeMismatch {
                section: id,
                expected: id.dims(),
                found: dims,
            });
        }
    };
    if rank != layout.rank() {
        // A rank that disagrees with the dims is reported as a shape mismatch too.
        return Err(BlobError::ShapeMismatch {
            section: id,
            expected: id.dims(),
            found: dims,
        });
    }
    let reserved = SectionEntry::RESERVED_AT;
    check_reserved(
        blob,
        base.saturating_add(reserved.start)..base.saturating_add(reserved.end),
    )?;
    let expected = BlobError::len_u32(layout.byte_len());
    if len != expected {
        return Err(BlobError::LengthMismatch {
            section: id,
            expected,
            found: len,
        });
    }
    let start = offset as usize;
    if !start.is_multiple_of(ALIGN) {
        return Err(BlobError::Misaligned {
            section: id,
            offset,
        });
    }
    let oob = BlobError::SectionOutOfBounds {
        section: id,
        offset,
        len,
    };
    let end = start.checked_add(len as usize).ok_or(oob)?;
    if start < table_end || end > got {
        return Err(oob);
    }
    let bytes = blob.get(start..end).ok_or(oob)?;
    Ok(SectionView {
        id,
        dtype: layout.dtype,
        offset,
        bytes,
    })
}
