//! Serialises a blob (host side; needs `std`). Uses the same constants, entry encoding and
//! alignment helper as the reader.

extern crate std;

use std::vec::Vec;

use super::activation::Activation;
use super::crc::crc32;
use super::header::{CRC_START, HEADER_LEN, Header, MAX_SECTIONS, MODEL_LENET, VERSION};
use super::i4;
use super::section::{DType, SectionId};
use super::table::{SectionEntry, align_up, table_end};

/// Collects section data and produces the blob bytes.
#[derive(Debug, Clone)]
pub struct BlobWriter {
    activation: Activation,
    sections: Vec<(SectionId, Vec<u8>)>,
}

/// Why a [`BlobWriter`] could not produce a blob (a programming error on the host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// A section was given with the wrong number of bytes.
    WrongLength {
        /// The section.
        section: SectionId,
        /// Bytes required.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// A section was added twice.
    Duplicate(SectionId),
    /// More than [`MAX_SECTIONS`] sections, or the blob would exceed 4 GiB.
    TooLarge,
}

impl core::fmt::Display for WriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::WrongLength {
                section,
                expected,
                found,
            } => {
                write!(
                    f,
                    "section {section}: {found} bytes given, {expected} required"
                )
            }
            Self::Duplicate(s) => write!(f, "section {s} added twice"),
            Self::TooLarge => write!(f, "blob too large"),
        }
    }
}

impl core::error::Error for WriteError {}

impl BlobWriter {
    /// An empty blob for a model with the given activation.
    pub fn new(activation: Activation) -> Self {
        Self {
            activation,
            sections: Vec::new(),
        }
    }

    /// Adds a section's raw little-endian bytes.
    ///
    /// # Errors
    /// [`WriteError::WrongLength`] or [`WriteError::Duplicate`].
    pub fn add_bytes(&mut self, section: SectionId, bytes: Vec<u8>) -> Result<(), WriteError> {
        if section.layout_for_len(bytes.len()).is_none() {
            return Err(WriteError::WrongLength {
                section,
                expected: section.byte_len(),
                found: bytes.len(),
            });
        }
        if self.sections.iter().any(|(s, _)| *s == section) {
            return Err(WriteError::Duplicate(section));
        }
        self.sections.push((section, bytes));
        Ok(())
    }

    /// Adds an `f32` section.
    ///
    /// # Errors
    /// As [`BlobWriter::add_bytes`].
    pub fn add_f32(&mut self, section: SectionId, data: &[f32]) -> Result<(), WriteError> {
        self.add_bytes(section, data.iter().flat_map(|v| v.to_le_bytes()).collect())
    }

    /// Adds an `i8` section.
    ///
    /// # Errors
    /// As [`BlobWriter::add_bytes`].
    pub fn add_i8(&mut self, section: SectionId, data: &[i8]) -> Result<(), WriteError> {
        self.add_bytes(section, data.iter().map(|&v| v as u8).collect())
    }

    /// Adds an int4 section (`fc1.weight.q`) from its values, row-major `[rows][cols]` with the
    /// section's dimensions, each in `[-7, 7]`, packed as [`i4`](super::i4) lays them out.
    ///
    /// # Errors
    /// As [`BlobWriter::add_bytes`]; [`WriteError::WrongLength`] also for a section without an
    /// int4 layout.
    pub fn add_i4(&mut self, section: SectionId, data: &[i8]) -> Result<(), WriteError> {
        let cols = section.dims()[1] as usize;
        let int4 = matches!(section.alt_layout(), Some(l) if matches!(l.dtype, DType::I4));
        if !int4 || cols == 0 || data.len() != section.elements() {
            return Err(WriteError::WrongLength {
                section,
                expected: section.elements(),
                found: data.len(),
            });
        }
        let packed = data.chunks(cols).flat_map(i4::pack_row).collect();
        self.add_bytes(section, packed)
    }

    /// Adds an `i32` section.
    ///
    /// # Errors
    /// As [`BlobWriter::add_bytes`].
    pub fn add_i32(&mut self, section: SectionId, data: &[i32]) -> Result<(), WriteError> {
        self.add_bytes(section, data.iter().flat_map(|v| v.to_le_bytes()).collect())
    }

    /// Lays the sections out (table order = id order, data 16-byte aligned, zero padding) and
    /// returns the finished blob with its CRC.
    ///
    /// # Errors
    /// [`WriteError::TooLarge`].
    pub fn finish(mut self) -> Result<Vec<u8>, WriteError> {
        if self.sections.is_empty() || self.sections.len() > usize::from(MAX_SECTIONS) {
            return Err(WriteError::TooLarge);
        }
        self.sections.sort_by_key(|(s, _)| *s);
        let count = self.sections.len();
        let table_end = table_end(count).ok_or(WriteError::TooLarge)?;
        let mut entries = Vec::with_capacity(count);
        let mut cursor = table_end;
        for (section, bytes) in &self.sections {
            let offset = align_up(cursor).ok_or(WriteError::TooLarge)?;
            let offset32 = u32::try_from(offset).map_err(|_| WriteError::TooLarge)?;
            entries.push(
                SectionEntry::for_section(*section, offset32, bytes.len())
                    .ok_or(WriteError::TooLarge)?,
            );
            cursor = offset + bytes.len();
        }
        let total_len = u32::try_from(cursor).map_err(|_| WriteError::TooLarge)?;
        let mut out = Vec::with_capacity(cursor);
        out.extend_from_slice(&[0u8; HEADER_LEN]);
        for e in &entries {
            out.extend_from_slice(&e.encode());
        }
        for ((_, bytes), e) in self.sections.iter().zip(&entries) {
            out.resize(e.offset as usize, 0);
            out.extend_from_slice(bytes);
        }
        let mut header = Header {
            version: VERSION,
            model: MODEL_LENET,
            total_len,
            crc32: 0,
            activation: self.activation,
            section_count: count as u16,
        };
        out[..HEADER_LEN].copy_from_slice(&header.encode());
        header.crc32 = crc32(&out[CRC_START..]);
        out[..HEADER_LEN].copy_from_slice(&header.encode());
        Ok(out)
    }
}
