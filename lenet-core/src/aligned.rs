//! Aligned storage for blob bytes: the one helper every consumer uses to meet the alignment
//! [`Model::parse`](crate::Model::parse) needs.
//!
//! - [`Aligned`] wraps a value (a `static` array filled by `include_bytes!`, a scratch buffer) so
//!   that it starts at a multiple of the marker's alignment ([`A4`], [`A16`]). It adds no bytes
//!   but the padding up to that alignment.
//! - `AlignedBytes` (feature `std`) copies bytes read at run time (a file, a test vector) into
//!   heap storage that starts at a multiple of [`ALIGN`](crate::blob::ALIGN), or at a chosen
//!   offset past one.
//!
//! ```
//! use lenet_core::aligned::{A16, Aligned};
//!
//! // Firmware: `static WEIGHTS: Aligned<A16, [u8; N]> = Aligned::new(*include_bytes!("…"));`
//! static BLOB: Aligned<A16, [u8; 4]> = Aligned::new(*b"LNET");
//! assert_eq!(BLOB.as_ptr() as usize % 16, 0);
//! assert_eq!(&BLOB[..], b"LNET");
//! ```

use core::ops::{Deref, DerefMut};

/// Alignment marker: 4 bytes (a word), enough for [`Model::parse`](crate::Model::parse) and
/// for word loads from byte buffers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(align(4))]
pub struct A4;

/// Alignment marker: 16 bytes, [`ALIGN`](crate::blob::ALIGN), so that every section of a blob
/// sits at the alignment it has in the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(align(16))]
pub struct A16;

const _: () = assert!(core::mem::align_of::<A4>() == 4);
const _: () = assert!(core::mem::align_of::<A16>() == crate::blob::ALIGN);

/// `T` stored at a multiple of the alignment of the marker `A` ([`A4`] or [`A16`]); derefs to
/// `T`.
///
/// The layout is that of `T` alone, with the alignment of `A` (or `T`'s, if larger) and its
/// size rounded up to it: a zero-length `[A; 0]` comes first and takes no space.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Aligned<A, T: ?Sized> {
    align: [A; 0],
    value: T,
}

impl<A, T> Aligned<A, T> {
    /// Wraps `value`; usable in a `static` initialiser.
    pub const fn new(value: T) -> Self {
        Self { align: [], value }
    }

    /// The wrapped value.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<A, T: ?Sized> Deref for Aligned<A, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<A, T: ?Sized> DerefMut for Aligned<A, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

#[cfg(feature = "std")]
pub use owned::AlignedBytes;

#[cfg(feature = "std")]
mod owned {
    extern crate std;

    use core::fmt;
    use std::vec::Vec;

    use crate::blob::ALIGN;

    /// A copy of some bytes in heap storage whose first byte sits at a multiple of
    /// [`ALIGN`], or a chosen number of bytes past one ([`AlignedBytes::with_offset`], for
    /// tests of misaligned input). Derefs to the bytes.
    ///
    /// ```
    /// use lenet_core::aligned::AlignedBytes;
    ///
    /// let blob = AlignedBytes::new(b"LNET");
    /// assert_eq!(blob.as_ptr() as usize % 16, 0);
    /// assert_eq!(blob.bytes(), b"LNET");
    /// assert_eq!(AlignedBytes::with_offset(b"LNET", 1).as_ptr() as usize % 16, 1);
    /// ```
    pub struct AlignedBytes {
        /// Over-allocated storage, never resized (so its address, and `start`, stay valid).
        storage: Vec<u8>,
        /// Index in `storage` of the first byte.
        start: usize,
        /// Number of bytes.
        len: usize,
    }

    impl AlignedBytes {
        /// Copies `bytes` to an address that is a multiple of [`ALIGN`].
        pub fn new(bytes: &[u8]) -> Self {
            Self::with_offset(bytes, 0)
        }

        /// Copies `bytes` to an address `offset % ALIGN` bytes past a multiple of [`ALIGN`].
        pub fn with_offset(bytes: &[u8], offset: usize) -> Self {
            let offset = offset % ALIGN;
            let mut storage = std::vec![0u8; bytes.len() + 2 * ALIGN];
            let misalignment = storage.as_ptr() as usize % ALIGN;
            let start = (ALIGN - misalignment) % ALIGN + offset;
            storage[start..start + bytes.len()].copy_from_slice(bytes);
            Self {
                storage,
                start,
                len: bytes.len(),
            }
        }

        /// The bytes.
        pub fn bytes(&self) -> &[u8] {
            &self.storage[self.start..self.start + self.len]
        }

        /// The bytes, mutably (the length is fixed).
        pub fn bytes_mut(&mut self) -> &mut [u8] {
            &mut self.storage[self.start..self.start + self.len]
        }

        /// How far past a multiple of [`ALIGN`] the bytes start (0 unless made by
        /// [`AlignedBytes::with_offset`]).
        pub fn offset(&self) -> usize {
            self.as_ptr() as usize % ALIGN
        }
    }

    impl core::ops::Deref for AlignedBytes {
        type Target = [u8];

        fn deref(&self) -> &[u8] {
            self.bytes()
        }
    }

    impl core::ops::DerefMut for AlignedBytes {
        fn deref_mut(&mut self) -> &mut [u8] {
            self.bytes_mut()
        }
    }

    /// A clone is a new copy with the same offset from the alignment (a derived clone would
    /// copy the storage to a new address and lose it).
    impl Clone for AlignedBytes {
        fn clone(&self) -> Self {
            Self::with_offset(self.bytes(), self.offset())
        }
    }

    impl fmt::Debug for AlignedBytes {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("AlignedBytes")
                .field("len", &self.len)
                .field("offset", &self.offset())
                .finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_adds_only_padding() {
        assert_eq!(core::mem::size_of::<Aligned<A16, [u8; 16]>>(), 16);
        assert_eq!(core::mem::size_of::<Aligned<A16, [u8; 17]>>(), 32);
        assert_eq!(core::mem::size_of::<Aligned<A4, [u8; 7655]>>(), 7656);
        assert_eq!(core::mem::align_of::<Aligned<A4, [u8; 3]>>(), 4);
        assert_eq!(core::mem::align_of::<Aligned<A4, u64>>(), 8);
    }

    #[test]
    fn aligned_static_is_aligned() {
        static S: Aligned<A16, [u8; 3]> = Aligned::new([1, 2, 3]);
        assert_eq!(S.as_ptr() as usize % 16, 0);
        assert_eq!(*S, [1, 2, 3]);
    }

    #[cfg(feature = "std")]
    #[test]
    fn aligned_bytes_start_where_asked() {
        let data: std::vec::Vec<u8> = (0..100).collect();
        for offset in 0..40 {
            let a = AlignedBytes::with_offset(&data, offset);
            assert_eq!(a.offset(), offset % 16);
            assert_eq!(a.bytes(), &data[..]);
            let b = a.clone();
            assert_eq!((b.offset(), b.bytes()), (a.offset(), a.bytes()));
        }
        assert!(AlignedBytes::new(&[]).is_empty());
    }
}
