//! The AVX-512 kernels' only memory accesses through pointers: whole 64-byte arrays in and out
//! of registers (the AVX2 ones are in `avx2.rs`), and the dword broadcast source.

use core::arch::x86_64::*;

/// Loads 64 bytes (unaligned).
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn load(a: &[u8; 64]) -> __m512i {
    // SAFETY: `a` is a valid, readable 64-byte array; the load has no alignment requirement.
    unsafe { _mm512_loadu_si512(a.as_ptr().cast()) }
}

/// Loads 16 `f32` (unaligned).
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn load_ps(a: &[f32; 16]) -> __m512 {
    // SAFETY: `a` is a valid, readable 64-byte array; the load has no alignment requirement.
    unsafe { _mm512_loadu_ps(a.as_ptr()) }
}

/// Loads the first `a.len()` lanes from `a` (at most 16) and zeros the others.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn load_ps_partial(a: &[f32]) -> __m512 {
    let n = a.len().min(16);
    let m: __mmask16 = ((1u32 << n) - 1) as __mmask16;
    // SAFETY: the mask selects the first `n <= a.len()` lanes, all within `a`; masked-off lanes
    // are not accessed (AVX-512 suppresses their faults), and the load needs no alignment.
    unsafe { _mm512_maskz_loadu_ps(m, a.as_ptr()) }
}

/// Stores `v` to `a`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn store_ps(a: &mut [f32; 16], v: __m512) {
    // SAFETY: `a` is a valid, writable 64-byte array; the store has no alignment requirement.
    unsafe { _mm512_storeu_ps(a.as_mut_ptr(), v) }
}

/// The lanes of a vector as an array.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn lanes_i32(v: __m512i) -> [i32; 16] {
    let mut out = [0i32; 16];
    // SAFETY: `out` is a valid, writable 64-byte array; the store has no alignment requirement.
    unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), v) };
    out
}

/// The lanes of a vector as an array.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn lanes_ps(v: __m512) -> [f32; 16] {
    let mut out = [0f32; 16];
    // SAFETY: `out` is a valid, writable 64-byte array; the store has no alignment requirement.
    unsafe { _mm512_storeu_ps(out.as_mut_ptr(), v) };
    out
}

/// Loads 16 `i32` (unaligned).
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn load_i32(a: &[i32; 16]) -> __m512i {
    load(bytemuck::cast_ref(a))
}

/// Loads 8 `i64` (unaligned).
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn load_i64(a: &[i64; 8]) -> __m512i {
    load(bytemuck::cast_ref(a))
}

/// Four little-endian bytes of `b` from `i` as one `i32` (for a `vpdpbusd` broadcast).
#[inline(always)]
pub(super) fn dword(b: &[u8], i: usize) -> i32 {
    i32::from_le_bytes(b[i..i + 4].try_into().unwrap())
}
