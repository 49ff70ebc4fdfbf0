//! The int4 weight layout: two's complement 4-bit values in `[-7, 7]`, two per byte, in groups
//! of [`GROUP`] elements per row.
//!
//! Each row of a `[rows][cols]` matrix is stored on its own in [`row_bytes`]
//! bytes: `cols` rounded up to a multiple of 8 elements, 4 bytes per group of 8. In group `g`
//! of a row (elements `8g .. 8g + 8`), byte `i` (`0..4`) holds element `8g + i` in its low
//! nibble (bits 0-3) and element `8g + i + 4` in its high nibble (bits 4-7). The nibbles of
//! elements past `cols` in the last group are 0. This order puts the elements that the Cortex-M
//! `SXTB16` instruction unpacks together into the same 16-bit lanes as the activations they
//! multiply (`docs/weight-blob.md`).

#[cfg(feature = "std")]
extern crate std;

/// Elements per group.
pub const GROUP: usize = 8;
/// Smallest value (-8 is never stored, as -128 is not in int8: the weights are symmetric).
pub const MIN: i8 = -7;
/// Largest value.
pub const MAX: i8 = 7;

/// Bytes of one row of `cols` elements: whole groups of 8 elements, 4 bytes each.
pub const fn row_bytes(cols: usize) -> usize {
    cols.div_ceil(GROUP) * (GROUP / 2)
}

/// Byte index (within its row) and nibble shift (0 = low, 4 = high) of element `k`.
pub const fn position(k: usize) -> (usize, u32) {
    let (group, j) = (k / GROUP, k % GROUP);
    (group * (GROUP / 2) + j % 4, if j < 4 { 0 } else { 4 })
}

/// Element `k` of a packed row, sign-extended.
///
/// # Panics
/// If `k` is past the row's bytes.
pub const fn get(row: &[u8], k: usize) -> i8 {
    let (byte, shift) = position(k);
    // Move the nibble into the top of a byte, then shift back arithmetically.
    (((row[byte] >> shift) << 4) as i8) >> 4
}

/// Packs one row of values in `[-8, 7]` (only the low 4 bits of each are kept) into
/// [`row_bytes`]`(row.len())` bytes, padding nibbles 0.
#[cfg(feature = "std")]
pub fn pack_row(row: &[i8]) -> std::vec::Vec<u8> {
    let mut out = std::vec![0u8; row_bytes(row.len())];
    for (k, &v) in row.iter().enumerate() {
        let (byte, shift) = position(k);
        out[byte] |= ((v as u8) & 0x0F) << shift;
    }
    out
}
