//! int8 kernels on AVX2 (CPUs without AVX-512 VNNI): the same packed weights, input layouts and
//! exact sums as the VNNI kernels, 8 output channels per vector.
//!
//! Without `vpdpbusd`, each dword of weight bytes `[w0 w1 w2 w3]` is split into the 16-bit pairs
//! `(w0, w2)` (shift left 8, then arithmetic shift right 8) and `(w1, w3)` (arithmetic shift
//! right 8), and the dword of input bytes `[x0 x1 x2 x3]` into `(x0, x2)` and `(x1, x3)`
//! (masks); `vpmaddwd` multiplies 16-bit lanes into exact 32-bit products (|w·x| <= 128·255) and
//! adds each pair exactly. Every output stage is the scalar [`QuantLayer::output`].

use core::arch::x86_64::*;

use super::pack::PackedConv;
use super::simd::dword;
use crate::kernels::QuantLayer;
use crate::shape::FLAT;

/// Loads 8 `i32` (unaligned).
#[inline]
#[target_feature(enable = "avx2")]
fn load8(a: &[i32; 8]) -> __m256i {
    // SAFETY: `a` is a valid, readable 32-byte array; the load has no alignment requirement.
    unsafe { _mm256_loadu_si256(a.as_ptr().cast()) }
}

/// Loads 16 bytes (unaligned).
#[inline]
#[target_feature(enable = "avx2")]
fn load16(a: &[u8; 16]) -> __m128i {
    // SAFETY: `a` is a valid, readable 16-byte array; the load has no alignment requirement.
    unsafe { _mm_loadu_si128(a.as_ptr().cast()) }
}

/// The lanes of a vector as an array.
#[inline]
#[target_feature(enable = "avx2")]
fn lanes8(v: __m256i) -> [i32; 8] {
    let mut out = [0i32; 8];
    // SAFETY: `out` is a valid, writable 32-byte array; the store has no alignment requirement.
    unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), v) };
    out
}

/// The window maxima of the VNNI kernel (`vnni.rs`) for the 16 output channels of block `b`,
/// on AVX2.
#[inline]
#[target_feature(enable = "avx2")]
fn window_max_avx2<const G: usize, const NB: usize>(
    x: &[u8],
    base: usize,
    pos: &[usize; 4],
    groups: &[usize; G],
    w: &PackedConv<G, NB>,
    b: usize,
) -> [i32; 16] {
    let mut acc = [[_mm256_setzero_si256(); 2]; 4];
    for (&off, wg) in groups.iter().zip(w) {
        let (lo, hi) = wg[b].split_at(8);
        let wv = [load8(lo.try_into().unwrap()), load8(hi.try_into().unwrap())];
        let w02 = [
            _mm256_srai_epi16::<8>(_mm256_slli_epi16::<8>(wv[0])),
            _mm256_srai_epi16::<8>(_mm256_slli_epi16::<8>(wv[1])),
        ];
        let w13 = [_mm256_srai_epi16::<8>(wv[0]), _mm256_srai_epi16::<8>(wv[1])];
        for (acc_p, &p) in acc.iter_mut().zip(pos) {
            let d = dword(x, base + p + off) as u32;
            let x02 = _mm256_set1_epi32((d & 0x00ff_00ff) as i32);
            let x13 = _mm256_set1_epi32(((d >> 8) & 0x00ff_00ff) as i32);
            for h in 0..2 {
                let t = _mm256_add_epi32(
                    _mm256_madd_epi16(x02, w02[h]),
                    _mm256_madd_epi16(x13, w13[h]),
                );
                acc_p[h] = _mm256_add_epi32(acc_p[h], t);
            }
        }
    }
    let mut out = [0; 16];
    for h in 0..2 {
        let m01 = _mm256_max_epi32(acc[0][h], acc[1][h]);
        let m23 = _mm256_max_epi32(acc[2][h], acc[3][h]);
        out[8 * h..8 * h + 8].copy_from_slice(&lanes8(_mm256_max_epi32(m01, m23)));
    }
    out
}

/// The quantized outputs `q` of one pooling window on AVX2: the window max per block of 16
/// channels, then each channel's output stage ([`QuantLayer::output`]); lanes past `OC` stay 0.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn window_q_avx2<const G: usize, const NB: usize, const OC: usize, const WN: usize>(
    x: &[u8],
    base: usize,
    pos: &[usize; 4],
    groups: &[usize; G],
    w: &PackedConv<G, NB>,
    l: &QuantLayer<'_, OC, WN>,
) -> [[i32; 16]; NB] {
    let mut q = [[0; 16]; NB];
    for (b, qb) in q.iter_mut().enumerate() {
        let acc = window_max_avx2(x, base, pos, groups, w, b);
        for (lane, (q, a)) in qb.iter_mut().zip(acc).enumerate() {
            let oc = 16 * b + lane;
            if oc < OC {
                *q = i32::from(l.output(oc, a + l.bias[oc]));
            }
        }
    }
    q
}

/// int8 dense layer over `x − in_zp` bytes on AVX2, weights as stored (`[OUT][IN]`): inputs
/// (widened once) and weights as 16-bit lanes, 16 products per `vpmaddwd` into 8 lanes that are
/// summed at the end of the row; the last `IN % 16` inputs are added one at a time.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn dense_i8_avx2<const IN: usize, const OUT: usize, const WN: usize>(
    x: &[u8; IN],
    l: &QuantLayer<'_, OUT, WN>,
    out: &mut [i8; OUT],
) {
    const { assert!(IN <= FLAT && WN == IN * OUT) };
    let full = IN / 16;
    let mut xv = [_mm256_setzero_si256(); FLAT / 16];
    for (c, v) in xv.iter_mut().enumerate().take(full) {
        *v = _mm256_cvtepu8_epi16(load16(x[16 * c..16 * c + 16].try_into().unwrap()));
    }
    let w: &[u8] = bytemuck::cast_slice(l.weights.as_slice());
    for (o, row) in w.chunks_exact(IN).enumerate() {
        let mut acc = [_mm256_setzero_si256(); 2];
        for (c, &xc) in xv.iter().enumerate().take(full) {
            let wc = _mm256_cvtepi8_epi16(load16(row[16 * c..16 * c + 16].try_into().unwrap()));
            acc[c % 2] = _mm256_add_epi32(acc[c % 2], _mm256_madd_epi16(xc, wc));
        }
        let mut sum: i32 = lanes8(_mm256_add_epi32(acc[0], acc[1])).iter().sum();
        for (&wi, &xi) in row[16 * full..].iter().zip(&x[16 * full..]) {
            sum += i32::from(wi as i8) * i32::from(xi);
        }
        out[o] = l.output(o, sum + l.bias[o]);
    }
}
