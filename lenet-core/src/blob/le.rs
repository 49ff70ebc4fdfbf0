//! Little-endian fields at fixed byte ranges and zero-byte checks, without panicking: a range
//! outside the buffer reads as `None` (or `TooShort`) and writes nothing.

use core::ops::Range;

use super::error::BlobError;

/// The `u16` stored at `at` (a 2-byte range).
pub(super) fn u16_at(bytes: &[u8], at: Range<usize>) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at)?.try_into().ok()?))
}

/// The `u32` stored at `at` (a 4-byte range).
pub(super) fn u32_at(bytes: &[u8], at: Range<usize>) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at)?.try_into().ok()?))
}

/// Copies `value` into `bytes[at]` (as many bytes as both have).
pub(super) fn put(bytes: &mut [u8], at: Range<usize>, value: &[u8]) {
    if let Some(dst) = bytes.get_mut(at) {
        for (d, s) in dst.iter_mut().zip(value) {
            *d = *s;
        }
    }
}

/// The first byte in `bytes[at]` that is not zero, as its offset and value.
///
/// # Errors
/// [`BlobError::TooShort`] when `at` passes the end of `bytes` (and every byte before the end
/// is zero).
pub(super) fn first_nonzero(
    bytes: &[u8],
    at: Range<usize>,
) -> Result<Option<(usize, u8)>, BlobError> {
    for i in at {
        match bytes.get(i) {
            Some(0) => {}
            Some(&b) => return Ok(Some((i, b))),
            None => return Err(BlobError::too_short(i.saturating_add(1), bytes.len())),
        }
    }
    Ok(None)
}

/// Checks that the reserved bytes `bytes[at]` are zero.
///
/// # Errors
/// [`BlobError::ReservedNonZero`] at the first one that is not, or `TooShort`.
pub(super) fn check_reserved(bytes: &[u8], at: Range<usize>) -> Result<(), BlobError> {
    for i in at {
        match bytes.get(i) {
            Some(0) => {}
            Some(_) => {
                return Err(BlobError::ReservedNonZero {
                    offset: BlobError::len_u32(i),
                });
            }
            None => return Err(BlobError::too_short(i.saturating_add(1), bytes.len())),
        }
    }
    Ok(())
}
