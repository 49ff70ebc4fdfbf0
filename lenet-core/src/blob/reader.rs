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

use super::{
    ALIGN, Activation, BlobError, CRC_START, DType, ENTRY_LEN, HEADER_LEN, Header, Layout, MAGIC,
    MAX_SECTIONS, MODEL_LENET, SectionId, VERSION, crc32,
};

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
/// unique, typed, shaped, aligned, in bounds and non-overlapping.
#[derive(Debug, Clone, Copy)]
pub struct Sections<'a> {
    header: Header,
    slots: [Option<SectionView<'a>>; MAX_SECTIONS as usize],
    len: usize,
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    let b = bytes.get(at..end)?;
    Some(u16::from_le_bytes(<[u8; 2]>::try_from(b).ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let b = bytes.get(at..end)?;
    Some(u32::from_le_bytes(<[u8; 4]>::try_from(b).ok()?))
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn too_short(needed: usize, got: usize) -> BlobError {
    BlobError::TooShort {
        needed: len_u32(needed),
        got: len_u32(got),
    }
}

/// Reads a field that the caller has already proven in bounds; falls back to a `TooShort` error
/// instead of panicking.
fn field<T>(v: Option<T>, needed: usize, got: usize) -> Result<T, BlobError> {
    v.ok_or_else(|| too_short(needed, got))
}

fn check_zero(bytes: &[u8], range: core::ops::Range<usize>) -> Result<(), BlobError> {
    for at in range {
        match bytes.get(at) {
            Some(0) => {}
            Some(_) => {
                return Err(BlobError::ReservedNonZero {
                    offset: len_u32(at),
                });
            }
            None => return Err(too_short(at.saturating_add(1), bytes.len())),
        }
    }
    Ok(())
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
        if got < HEADER_LEN {
            return Err(too_short(HEADER_LEN, got));
        }
        let magic = field(bytes.get(0..4), HEADER_LEN, got)?;
        if magic != MAGIC {
            let mut found = [0u8; 4];
            found.copy_from_slice(magic);
            return Err(BlobError::BadMagic { found });
        }
        let version = field(u16_at(bytes, 4), HEADER_LEN, got)?;
        if version != VERSION {
            return Err(BlobError::UnsupportedVersion {
                found: version,
                supported: VERSION,
            });
        }
        let model = field(u16_at(bytes, 6), HEADER_LEN, got)?;
        if model != MODEL_LENET {
            return Err(BlobError::UnsupportedModel { found: model });
        }
        let total_len = field(u32_at(bytes, 8), HEADER_LEN, got)?;
        let total = usize::try_from(total_len).map_err(|_| too_short(usize::MAX, got))?;
        if total < HEADER_LEN {
            return Err(too_short(HEADER_LEN, total));
        }
        if total > got {
            return Err(too_short(total, got));
        }
        let crc_stored = field(u32_at(bytes, 12), HEADER_LEN, got)?;
        let act_code = *field(bytes.get(16), HEADER_LEN, got)?;
        let activation =
            Activation::from_code(act_code).ok_or(BlobError::BadActivation { found: act_code })?;
        check_zero(bytes, 17..18)?;
        let section_count = field(u16_at(bytes, 18), HEADER_LEN, got)?;
        check_zero(bytes, 20..HEADER_LEN)?;
        if section_count == 0 || section_count > MAX_SECTIONS {
            return Err(BlobError::BadSectionCount {
                found: section_count,
            });
        }
        let count = usize::from(section_count);
        // count <= 32, so this cannot overflow.
        let table_end = HEADER_LEN.saturating_add(count.saturating_mul(ENTRY_LEN));
        if table_end > total {
            return Err(too_short(table_end, total));
        }
        let blob = field(bytes.get(..total), total, got)?;
        let crc_found = crc32(field(blob.get(CRC_START..), total, got)?);
        if crc_found != crc_stored {
            return Err(BlobError::ChecksumMismatch {
                expected: crc_stored,
                found: crc_found,
            });
        }

        let header = Header {
            version,
            model,
            total_len,
            crc32: crc_stored,
            activation,
            section_count,
        };
        let mut out = Sections {
            header,
            slots: [None; MAX_SECTIONS as usize],
            len: 0,
        };
        for i in 0..count {
            let base = HEADER_LEN.saturating_add(i.saturating_mul(ENTRY_LEN));
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
                found: section_count,
            })?;
            *slot = Some(view);
            out.len = i.saturating_add(1);
        }
        Ok(out)
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
        .ok_or_else(|| too_short(usize::MAX, got))?;
    let entry = blob
        .get(base..entry_end)
        .ok_or_else(|| too_short(entry_end, got))?;
    let short = || too_short(entry_end, got);
    let raw_id = u16_at(entry, 0).ok_or_else(short)?;
    let id = SectionId::from_id(raw_id).ok_or(BlobError::UnknownSection { id: raw_id })?;
    let dtype = *entry.get(2).ok_or_else(short)?;
    let rank = *entry.get(3).ok_or_else(short)?;
    let mut dims = [0u32; 4];
    for (i, d) in dims.iter_mut().enumerate() {
        let at = 4usize.saturating_add(i.saturating_mul(4));
        *d = u32_at(entry, at).ok_or_else(short)?;
    }
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
    let offset = u32_at(entry, 20).ok_or_else(short)?;
    let len = u32_at(entry, 24).ok_or_else(short)?;
    let reserved_at = base.saturating_add(28);
    check_zero(blob, reserved_at..reserved_at.saturating_add(4))?;
    let expected = len_u32(layout.byte_len());
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
