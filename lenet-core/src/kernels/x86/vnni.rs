//! int8 kernels on AVX-512 F + BW + VNNI: the convolution window (lanes = output channels, one
//! 2x2 pooling window of 4 positions at a time, `vpdpbusd` over packed tap groups) and the dense
//! layer (`vpdpbusd` along the input, four rows at a time).

use core::arch::x86_64::*;

use super::pack::PackedConv;
use super::requant::{OutRange, Requant16, requant16};
use super::simd::{dword, lanes_i32, load, load_i32};
use crate::kernels::QuantLayer;

/// The max over one pooling window of the four exact accumulators `Σ w·(x − in_zp)`, per output
/// channel lane. `x` holds `x − in_zp` as bytes, laid out so that `base + POS[p] + GROUPS[g]` is
/// the first byte of tap group `g` of position `p`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn window_max<const G: usize, const NB: usize>(
    x: &[u8],
    base: usize,
    pos: &[usize; 4],
    groups: &[usize; G],
    w: &PackedConv<G, NB>,
) -> [__m512i; NB] {
    let mut acc = [[_mm512_setzero_si512(); NB]; 4];
    for (&off, wg) in groups.iter().zip(w) {
        let mut wv = [_mm512_setzero_si512(); NB];
        for (v, a) in wv.iter_mut().zip(wg) {
            *v = load_i32(a);
        }
        for (acc_p, &p) in acc.iter_mut().zip(pos) {
            let b = _mm512_set1_epi32(dword(x, base + p + off));
            for (a, &v) in acc_p.iter_mut().zip(&wv) {
                *a = _mm512_dpbusd_epi32(*a, b, v);
            }
        }
    }
    let mut m = acc[0];
    for acc_p in &acc[1..] {
        for (m, &a) in m.iter_mut().zip(acc_p) {
            *m = _mm512_max_epi32(*m, a);
        }
    }
    m
}

/// The quantized outputs `q` of one pooling window, per output-channel lane (VNNI): the window
/// max of the exact accumulators, requantized 16 lanes at a time.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub(super) fn window_q_vnni<const G: usize, const NB: usize>(
    x: &[u8],
    base: usize,
    pos: &[usize; 4],
    groups: &[usize; G],
    w: &PackedConv<G, NB>,
    rq: &[Requant16; NB],
    o: OutRange,
) -> [[i32; 16]; NB] {
    let acc = window_max(x, base, pos, groups, w);
    let mut q = [[0; 16]; NB];
    for ((q, &a), rq) in q.iter_mut().zip(&acc).zip(rq) {
        *q = lanes_i32(requant16(a, rq, o));
    }
    q
}

/// int8 dense layer over `x − in_zp` bytes, weights as stored (`[OUT][IN]`, no repacking):
/// each row's dot product is split over the 16 lanes in groups of four bytes, then summed.
/// The last partial 64-byte chunk re-reads the row's final 64 bytes against an input chunk whose
/// already-counted leading bytes are zeroed. The output stage is the scalar
/// [`QuantLayer::output`].
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub(super) fn dense_i8_vnni<const IN: usize, const OUT: usize, const WN: usize>(
    x: &[u8; IN],
    l: &QuantLayer<'_, OUT, WN>,
    out: &mut [i8; OUT],
) {
    const { assert!(IN >= 64 && WN == IN * OUT) };
    let full = IN / 64;
    let tail = IN % 64;
    let mut xt = [0u8; 64];
    xt[64 - tail..].copy_from_slice(&x[IN - tail..]);
    let xt = load(&xt);
    fn chunk(s: &[u8], at: usize) -> &[u8; 64] {
        s[at..at + 64].try_into().unwrap()
    }
    fn wchunk(s: &[i8], at: usize) -> &[u8; 64] {
        bytemuck::cast_ref(<&[i8; 64]>::try_from(&s[at..at + 64]).unwrap())
    }
    let mut o = 0;
    let mut rows = l.weights.chunks_exact(4 * IN);
    for block in &mut rows {
        let mut acc = [_mm512_setzero_si512(); 4];
        for c in 0..full {
            let xv = load(chunk(x, 64 * c));
            for (r, a) in acc.iter_mut().enumerate() {
                *a = _mm512_dpbusd_epi32(*a, xv, load(wchunk(block, r * IN + 64 * c)));
            }
        }
        if tail != 0 {
            for (r, a) in acc.iter_mut().enumerate() {
                *a = _mm512_dpbusd_epi32(*a, xt, load(wchunk(block, r * IN + IN - 64)));
            }
        }
        for a in acc {
            out[o] = l.output(o, _mm512_reduce_add_epi32(a) + l.bias[o]);
            o += 1;
        }
    }
    for row in rows.remainder().chunks_exact(IN) {
        let mut a = _mm512_setzero_si512();
        for c in 0..full {
            a = _mm512_dpbusd_epi32(a, load(chunk(x, 64 * c)), load(wchunk(row, 64 * c)));
        }
        if tail != 0 {
            a = _mm512_dpbusd_epi32(a, xt, load(wchunk(row, IN - 64)));
        }
        out[o] = l.output(o, _mm512_reduce_add_epi32(a) + l.bias[o]);
        o += 1;
    }
}
