//! x86-64 AVX-512 and AVX2 forward passes, bit-identical to the portable kernels (host, `std`
//! only).
//!
//! [`I8Model::forward`] and [`F32Model::forward`] call these automatically when the CPU has the
//! features ([`int8_available`], [`avx2_available`], [`f32_available`]; detected once and
//! cached) and fall back to the portable kernels otherwise, so results never depend on the
//! machine. int8 runs the AVX-512 VNNI kernels where the CPU has them, else the AVX2 kernels
//! ([`forward_i8_avx2`]), else the portable ones. [`PackedI8`] and [`PackedF32`] additionally
//! repack the weights once per model, which removes the per-call repacking cost (int8) and makes
//! the f32 dense layer vectorisable; build one per model and reuse it for every image.
//!
//! # Why the results are bit-identical
//! - **int8** (AVX-512 F + BW + VNNI): every layer sums `w·(x − in_zp)` exactly in `i32` (the
//!   order of integer additions is irrelevant while nothing overflows; the kernel docs bound the
//!   sums far below `2^31`). `x − in_zp` is fed to `vpdpbusd` as an unsigned byte, which is
//!   exact because each layer's input is the clamped output of the one before: it lies in
//!   `[max(act_min_prev, −128), 127]`, so `x − in_zp ∈ [0, 255]` whenever
//!   `in_zp ≤ max(act_min_prev, −128)` and `in_zp ≥ −128` (true for every parsed blob: the first
//!   input has `in_zp = −128`, the others follow a ReLU whose `act_min` is the next `in_zp`).
//!   Padding is the byte 0 (the real value 0), so it adds nothing, as in the portable kernels.
//!   The max of the four accumulators of a pooling window is requantized with the exact 64-bit
//!   single-rounding formula of [`requantize`](crate::quant::requantize), vectorised per lane.
//! - **int8 on AVX2**: the same packed weights and the same precondition; each `w` and each
//!   `x − in_zp` is widened to `i16` and `vpmaddwd` adds two exact products (each at most
//!   `255·128` in magnitude) into an `i32` lane, so the sums are again exact. The requantization
//!   of the pooled maxima and the dense layers' output stage call the scalar
//!   [`QuantLayer`] output function itself, so there is nothing to diverge.
//!   A model that breaks the preconditions (possible only by editing [`QuantLayer`] fields by
//!   hand) runs the portable kernels instead.
//! - **f32** (AVX-512 F): lanes are output columns (convolutions) or output units (dense
//!   layers), never terms of one sum, so every output still receives its terms one at a time in
//!   the documented order (`ic, ky, kx` ascending; ascending `i`), each a separate multiply and
//!   add (no FMA is ever emitted: Rust does not contract, and the intrinsics used are `mul` and
//!   `add`). Out-of-bounds taps are skipped with lane masks rather than multiplied by a zero pad,
//!   so even infinite or NaN weights give the portable bits. Only ReLU models are accelerated;
//!   tanh models run the portable kernels.
//!
//! Under Miri this module is not compiled and everything runs the portable kernels.
#![allow(unsafe_code)]

use core::arch::x86_64::*;
use std::boxed::Box;
use std::sync::atomic::{AtomicU8, Ordering};

use super::QuantLayer;
use crate::blob::Activation;
use crate::model::{F32Model, I8Model, ScratchF32, ScratchI8};
use crate::quant::{SHIFT_MAX, SHIFT_MIN, pixel_to_i8};
use crate::shape::{
    C1, C2, CLASSES, CONV1_W_LEN, CONV2_W_LEN, FC1, FLAT, IN_H, IN_LEN, IN_W, K, P1, P2, PAD,
    POOL1_LEN,
};

// ---------------------------------------------------------------------------------------------
// Feature detection, cached.

/// Bits of the cached feature level; 0 means not yet detected.
const KNOWN: u8 = 1;
const AVX2: u8 = 2;
const AVX512F: u8 = 4;
const AVX512_VNNI: u8 = 8;

static LEVEL: AtomicU8 = AtomicU8::new(0);

fn level() -> u8 {
    let l = LEVEL.load(Ordering::Relaxed);
    if l != 0 {
        return l;
    }
    let mut l = KNOWN;
    if std::is_x86_feature_detected!("avx2") {
        l |= AVX2;
    }
    if std::is_x86_feature_detected!("avx512f") {
        l |= AVX512F;
        if std::is_x86_feature_detected!("avx512bw") && std::is_x86_feature_detected!("avx512vnni")
        {
            l |= AVX512_VNNI;
        }
    }
    LEVEL.store(l, Ordering::Relaxed);
    l
}

/// Whether this CPU runs the int8 AVX-512 path (AVX-512 F, BW and VNNI). Detected once, then
/// cached.
pub fn int8_available() -> bool {
    level() & AVX512_VNNI != 0
}

/// Whether this CPU runs the f32 fast path (AVX-512 F). Detected once, then cached.
pub fn f32_available() -> bool {
    level() & AVX512F != 0
}

/// Whether this CPU has AVX2, which runs the int8 AVX2 path ([`forward_i8_avx2`]) where the
/// AVX-512 VNNI one is not available. Detected once, then cached.
pub fn avx2_available() -> bool {
    level() & AVX2 != 0
}

// ---------------------------------------------------------------------------------------------
// The only memory accesses through pointers: whole 64-byte arrays in and out of registers.

/// Loads 64 bytes (unaligned).
#[inline]
#[target_feature(enable = "avx512f")]
fn load(a: &[u8; 64]) -> __m512i {
    // SAFETY: `a` is a valid, readable 64-byte array; the load has no alignment requirement.
    unsafe { _mm512_loadu_si512(a.as_ptr().cast()) }
}

/// Loads 16 `f32` (unaligned).
#[inline]
#[target_feature(enable = "avx512f")]
fn load_ps(a: &[f32; 16]) -> __m512 {
    // SAFETY: `a` is a valid, readable 64-byte array; the load has no alignment requirement.
    unsafe { _mm512_loadu_ps(a.as_ptr()) }
}

/// The lanes of a vector as an array.
#[inline]
#[target_feature(enable = "avx512f")]
fn lanes_i32(v: __m512i) -> [i32; 16] {
    let mut out = [0i32; 16];
    // SAFETY: `out` is a valid, writable 64-byte array; the store has no alignment requirement.
    unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), v) };
    out
}

/// The lanes of a vector as an array.
#[inline]
#[target_feature(enable = "avx512f")]
fn lanes_ps(v: __m512) -> [f32; 16] {
    let mut out = [0f32; 16];
    // SAFETY: `out` is a valid, writable 64-byte array; the store has no alignment requirement.
    unsafe { _mm512_storeu_ps(out.as_mut_ptr(), v) };
    out
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load_i32(a: &[i32; 16]) -> __m512i {
    load(bytemuck::cast_ref(a))
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load_i64(a: &[i64; 8]) -> __m512i {
    load(bytemuck::cast_ref(a))
}

/// Four little-endian bytes of `b` from `i` as one `i32` (for a `vpdpbusd` broadcast).
#[inline(always)]
fn dword(b: &[u8], i: usize) -> i32 {
    i32::from_le_bytes(b[i..i + 4].try_into().unwrap())
}

// ---------------------------------------------------------------------------------------------
// int8: requantization of 16 output channels at once.

/// Output stage of 16 channels: bias and the requantization constants, padding lanes inert.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Requant16 {
    bias: [i32; 16],
    mult: [i32; 16],
    /// `31 − shift` of the even / odd lanes (1..=62), as 64-bit counts.
    shift: [[i64; 8]; 2],
    /// `2^(30 − shift)` of the even / odd lanes.
    round: [[i64; 8]; 2],
}

/// Layer-wide output constants: the clamp range, relative to the output zero point.
#[derive(Clone, Copy)]
struct OutRange {
    zp: i32,
    /// `max(act_min, −128) − zp`.
    lo: i64,
    /// `min(act_max, 127) − zp`.
    hi: i64,
}

impl OutRange {
    fn of<const OC: usize, const WN: usize>(l: &QuantLayer<'_, OC, WN>) -> Self {
        Self {
            zp: l.out_zp,
            lo: i64::from(l.act_min.max(-128)) - i64::from(l.out_zp),
            hi: i64::from(l.act_max.min(127)) - i64::from(l.out_zp),
        }
    }
}

fn requant_blocks<const OC: usize, const WN: usize, const NB: usize>(
    l: &QuantLayer<'_, OC, WN>,
) -> [Requant16; NB] {
    let mut r = [Requant16 {
        bias: [0; 16],
        mult: [0; 16],
        shift: [[1; 8]; 2],
        round: [[1; 8]; 2],
    }; NB];
    for oc in 0..OC {
        let (b, lane) = (oc / 16, oc % 16);
        let (multiplier, shift) = l.requant.get(oc);
        let t = i64::from(31 - shift.clamp(SHIFT_MIN, SHIFT_MAX));
        r[b].bias[lane] = l.bias[oc];
        r[b].mult[lane] = multiplier;
        r[b].shift[lane % 2][lane / 2] = t;
        r[b].round[lane % 2][lane / 2] = 1i64 << (t - 1);
    }
    r
}

/// `clamp(requantize(acc + bias) + zp, lo, hi)` per lane (the quantized output `q`, as i32).
#[inline]
#[target_feature(enable = "avx512f")]
fn requant16(acc: __m512i, r: &Requant16, o: OutRange) -> __m512i {
    let acc = _mm512_add_epi32(acc, load_i32(&r.bias));
    let m = load_i32(&r.mult);
    // Exact 64-bit products of the even and the odd lanes (`vpmuldq` sign-extends the low half).
    let even = _mm512_mul_epi32(acc, m);
    let odd = _mm512_mul_epi32(_mm512_srli_epi64::<32>(acc), _mm512_srli_epi64::<32>(m));
    let (lo, hi) = (_mm512_set1_epi64(o.lo), _mm512_set1_epi64(o.hi));
    let scale = |p: __m512i, h: usize| {
        // |p| <= 2^62 and round <= 2^61: no overflow; `vpsravq` is the flooring shift.
        let s = _mm512_srav_epi64(
            _mm512_add_epi64(p, load_i64(&r.round[h])),
            load_i64(&r.shift[h]),
        );
        _mm512_min_epi64(_mm512_max_epi64(s, lo), hi)
    };
    let (even, odd) = (scale(even, 0), scale(odd, 1));
    let v = _mm512_mask_blend_epi32(0xaaaa, even, _mm512_slli_epi64::<32>(odd));
    _mm512_add_epi32(v, _mm512_set1_epi32(o.zp))
}

// ---------------------------------------------------------------------------------------------
// int8 convolutions: lanes are output channels, one pooling window (4 positions) at a time.

/// conv1 blocks of 16 output channels (20 → 32 lanes).
const NB1: usize = C1.div_ceil(16);
/// conv2 blocks of 16 output channels (50 → 64 lanes).
const NB2: usize = C2.div_ceil(16);
/// conv1 tap groups: per kernel row, `kx` 0..4 and `kx` 4 (with three zero weights).
const G1: usize = 2 * K;
/// conv2 tap groups: per tap `(ky, kx)`, input channels in fours.
const G2: usize = K * K * (C1 / 4);
/// Row length of the padded conv1 input: 2 + 28 + 2 columns, plus 3 read past by the last
/// group (zero weights), rounded to 36.
const X1_ROW: usize = 36;
/// Rows of the padded conv1 input.
const X1_ROWS: usize = IN_H + 2 * PAD;
/// Side of the padded, HWC conv2 input (`14 + 2 + 2`).
const X2_SIDE: usize = P1 + 2 * PAD;

const _: () = assert!(C1.is_multiple_of(4), "conv2 groups input channels in fours");
const _: () = assert!(IN_W + 2 * PAD + 3 <= X1_ROW);

/// Packed int8 convolution weights: `w[g][b][lane]` holds the four bytes of tap group `g` for
/// output channel `16·b + lane` (zero for padding lanes and padding taps).
type PackedConv<const G: usize, const NB: usize> = [[[i32; 16]; NB]; G];

fn pack_conv1(w: &[i8; CONV1_W_LEN]) -> Box<PackedConv<G1, NB1>> {
    let mut p = Box::new([[[0i32; 16]; NB1]; G1]);
    pack_conv1_into(w, &mut p);
    p
}

fn pack_conv1_into(w: &[i8; CONV1_W_LEN], p: &mut PackedConv<G1, NB1>) {
    for oc in 0..C1 {
        for ky in 0..K {
            for h in 0..2 {
                let mut b = [0u8; 4];
                for (j, byte) in b.iter_mut().enumerate() {
                    let kx = 4 * h + j;
                    if kx < K {
                        *byte = w[(oc * K + ky) * K + kx] as u8;
                    }
                }
                p[2 * ky + h][oc / 16][oc % 16] = i32::from_le_bytes(b);
            }
        }
    }
}

fn pack_conv2_into(w: &[i8; CONV2_W_LEN], p: &mut PackedConv<G2, NB2>) {
    for (oc, w_oc) in w.chunks_exact(C1 * K * K).enumerate() {
        for tap in 0..K * K {
            for g in 0..C1 / 4 {
                let b: [u8; 4] = core::array::from_fn(|j| w_oc[(4 * g + j) * K * K + tap] as u8);
                p[tap * (C1 / 4) + g][oc / 16][oc % 16] = i32::from_le_bytes(b);
            }
        }
    }
    for row in p.iter_mut() {
        for oc in C2..NB2 * 16 {
            row[oc / 16][oc % 16] = 0;
        }
    }
}

/// Byte offsets, from a window's top-left input, of its four positions and of the tap groups.
const POS1: [usize; 4] = [0, 1, X1_ROW, X1_ROW + 1];
const GROUPS1: [usize; G1] = {
    let mut g = [0; G1];
    let mut i = 0;
    while i < G1 {
        g[i] = (i / 2) * X1_ROW + 4 * (i % 2);
        i += 1;
    }
    g
};
const POS2: [usize; 4] = [0, C1, X2_SIDE * C1, (X2_SIDE + 1) * C1];
const GROUPS2: [usize; G2] = {
    let mut g = [0; G2];
    let mut i = 0;
    while i < G2 {
        let (tap, icg) = (i / (C1 / 4), i % (C1 / 4));
        g[i] = ((tap / K) * X2_SIDE + tap % K) * C1 + 4 * icg;
        i += 1;
    }
    g
};

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

/// Everything the int8 fast path needs besides the model's own views.
struct I8Prep {
    conv1_rq: [Requant16; NB1],
    conv2_rq: [Requant16; NB2],
    out1: OutRange,
    out2: OutRange,
}

impl I8Prep {
    fn new(m: &I8Model<'_>) -> Self {
        Self {
            conv1_rq: requant_blocks(&m.conv1),
            conv2_rq: requant_blocks(&m.conv2),
            out1: OutRange::of(&m.conv1),
            out2: OutRange::of(&m.conv2),
        }
    }
}

/// Whether the fast path reproduces the portable kernels for this model (see the module docs).
fn i8_eligible(m: &I8Model<'_>) -> bool {
    fn lo<const OC: usize, const WN: usize>(l: &QuantLayer<'_, OC, WN>) -> i32 {
        l.act_min.max(-128)
    }
    fn ok_range<const OC: usize, const WN: usize>(l: &QuantLayer<'_, OC, WN>) -> bool {
        l.act_min.max(-128) <= l.act_max.min(127)
    }
    // The conv output stage adds the bias in wrapping vector arithmetic: keep `max + bias`
    // inside i32 as the portable kernel does (|acc| < 2^24, |bias| <= 2^30 in a parsed blob).
    fn small_bias(b: &[i32]) -> bool {
        b.iter().all(|&v| v.unsigned_abs() <= 1 << 30)
    }
    let chain = m.conv1.in_zp == -128
        && (-128..=lo(&m.conv1)).contains(&m.conv2.in_zp)
        && (-128..=lo(&m.conv2)).contains(&m.fc1.in_zp)
        && (-128..=lo(&m.fc1)).contains(&m.fc2.in_zp);
    chain
        && ok_range(&m.conv1)
        && ok_range(&m.conv2)
        && ok_range(&m.fc1)
        && ok_range(&m.fc2)
        && small_bias(m.conv1.bias)
        && small_bias(m.conv2.bias)
}

/// The int8 kernels a forward pass runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Isa {
    /// AVX-512 F, BW and VNNI.
    Vnni,
    /// AVX2.
    Avx2,
}

/// The fastest int8 kernels this CPU can run for `m`, if any.
fn isa_for(m: &I8Model<'_>) -> Option<Isa> {
    if !i8_eligible(m) {
        None
    } else if int8_available() {
        Some(Isa::Vnni)
    } else if avx2_available() {
        Some(Isa::Avx2)
    } else {
        None
    }
}

/// The inputs of one int8 forward pass on the fast kernels.
#[derive(Clone, Copy)]
struct I8Call<'a, 'm> {
    m: &'a I8Model<'m>,
    prep: &'a I8Prep,
    w1: &'a PackedConv<G1, NB1>,
    w2: &'a PackedConv<G2, NB2>,
    pixels: &'a [u8; IN_LEN],
    /// Stop after the convolutions (the logits are then zero).
    convs_only: bool,
}

/// Runs [`forward_i8_with`] with `isa`'s kernels.
///
/// # Safety
/// The CPU has `isa`'s features.
unsafe fn run_i8(isa: Isa, call: I8Call<'_, '_>, scratch: &mut ScratchI8) -> [i8; CLASSES] {
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn vnni(call: I8Call<'_, '_>, scratch: &mut ScratchI8) -> [i8; CLASSES] {
        // SAFETY: this function is compiled for, and only called with, `Isa::Vnni`'s features.
        unsafe { forward_i8_with::<true>(call, scratch) }
    }
    #[target_feature(enable = "avx2")]
    fn avx2(call: I8Call<'_, '_>, scratch: &mut ScratchI8) -> [i8; CLASSES] {
        // SAFETY: this function is compiled for, and only called with, `Isa::Avx2`'s features.
        unsafe { forward_i8_with::<false>(call, scratch) }
    }
    // SAFETY: the caller guarantees `isa`'s features.
    unsafe {
        match isa {
            Isa::Vnni => vnni(call, scratch),
            Isa::Avx2 => avx2(call, scratch),
        }
    }
}

/// conv1 + ReLU + pool, then conv2 + ReLU + pool, then both dense layers, with the window and
/// dense kernels of AVX-512 VNNI (`VNNI`) or of AVX2 (`!VNNI`). Inlined into a caller compiled
/// for those features.
///
/// # Safety
/// The CPU has AVX-512 F, BW and VNNI if `VNNI`, AVX2 otherwise.
#[inline(always)]
unsafe fn forward_i8_with<const VNNI: bool>(
    call: I8Call<'_, '_>,
    scratch: &mut ScratchI8,
) -> [i8; CLASSES] {
    let I8Call {
        m,
        prep,
        w1,
        w2,
        pixels,
        convs_only,
    } = call;
    // conv1 input: `x − in_zp = pixel` (in_zp = −128), zero padded.
    let mut x1 = [0u8; X1_ROWS * X1_ROW];
    for (row, src) in x1[PAD * X1_ROW..]
        .chunks_exact_mut(X1_ROW)
        .zip(pixels.chunks_exact(IN_W))
    {
        row[PAD..PAD + IN_W].copy_from_slice(src);
    }
    for (q, &p) in scratch.input.iter_mut().zip(pixels) {
        *q = pixel_to_i8(p);
    }
    // conv2 input: HWC, `x − in_zp` as bytes, zero padded.
    let mut x2 = [0u8; X2_SIDE * X2_SIDE * C1];
    let zp2 = m.conv2.in_zp;
    for py in 0..P1 {
        for px in 0..P1 {
            let base = 2 * py * X1_ROW + 2 * px;
            // SAFETY: the caller guarantees the features of the chosen kernel.
            let q = unsafe {
                if VNNI {
                    window_q_vnni(&x1, base, &POS1, &GROUPS1, w1, &prep.conv1_rq, prep.out1)
                } else {
                    window_q_avx2(&x1, base, &POS1, &GROUPS1, w1, &m.conv1)
                }
            };
            let at = ((py + PAD) * X2_SIDE + px + PAD) * C1;
            for (oc, &q) in q.as_flattened().iter().enumerate().take(C1) {
                scratch.pool1[(oc * P1 + py) * P1 + px] = q as i8;
                x2[at + oc] = (q - zp2) as u8;
            }
        }
    }
    // conv2, writing fc1's input `x − in_zp` (CHW flatten order) as it goes.
    let mut x3 = [0u8; FLAT];
    let zp3 = m.fc1.in_zp;
    for py in 0..P2 {
        for px in 0..P2 {
            let base = (2 * py * X2_SIDE + 2 * px) * C1;
            // SAFETY: the caller guarantees the features of the chosen kernel.
            let q = unsafe {
                if VNNI {
                    window_q_vnni(&x2, base, &POS2, &GROUPS2, w2, &prep.conv2_rq, prep.out2)
                } else {
                    window_q_avx2(&x2, base, &POS2, &GROUPS2, w2, &m.conv2)
                }
            };
            for (oc, &q) in q.as_flattened().iter().enumerate().take(C2) {
                let i = (oc * P2 + py) * P2 + px;
                scratch.pool2[i] = q as i8;
                x3[i] = (q - zp3) as u8;
            }
        }
    }
    if convs_only {
        return [0; CLASSES];
    }
    let zp4 = m.fc2.in_zp;
    let mut logits = [0i8; CLASSES];
    // SAFETY: the caller guarantees the features of the chosen kernel.
    unsafe {
        if VNNI {
            dense_i8_vnni(&x3, &m.fc1, &mut scratch.fc1);
        } else {
            dense_i8_avx2(&x3, &m.fc1, &mut scratch.fc1);
        }
        let x4: [u8; FC1] = core::array::from_fn(|i| (i32::from(scratch.fc1[i]) - zp4) as u8);
        if VNNI {
            dense_i8_vnni(&x4, &m.fc2, &mut logits);
        } else {
            dense_i8_avx2(&x4, &m.fc2, &mut logits);
        }
    }
    logits
}

/// The quantized outputs `q` of one pooling window, per output-channel lane (VNNI): the window
/// max of the exact accumulators, requantized 16 lanes at a time.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn window_q_vnni<const G: usize, const NB: usize>(
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
/// already-counted leading bytes are zeroed.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn dense_i8_vnni<const IN: usize, const OUT: usize, const WN: usize>(
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

// ---------------------------------------------------------------------------------------------
// int8 on AVX2 (CPUs without AVX-512 VNNI): the same packed weights, input layouts and exact
// sums as the VNNI kernels, 8 output channels per vector. Without `vpdpbusd`, each dword of
// weight bytes `[w0 w1 w2 w3]` is split into the 16-bit pairs `(w0, w2)` (shift left 8, then
// arithmetic shift right 8) and `(w1, w3)` (arithmetic shift right 8), and the dword of input
// bytes `[x0 x1 x2 x3]` into `(x0, x2)` and `(x1, x3)` (masks); `vpmaddwd` multiplies 16-bit
// lanes into exact 32-bit products (|w·x| <= 128·255) and adds each pair exactly.

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

/// [`window_max`] for the 16 output channels of block `b`, on AVX2.
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

/// [`window_q_vnni`] on AVX2: the window max per block of 16 channels, then each channel's
/// output stage ([`QuantLayer::output`]); lanes past `OC` stay 0.
#[inline]
#[target_feature(enable = "avx2")]
fn window_q_avx2<const G: usize, const NB: usize, const OC: usize, const WN: usize>(
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
fn dense_i8_avx2<const IN: usize, const OUT: usize, const WN: usize>(
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

/// The int8 AVX2 path on its own, whatever else the CPU has (for tests and benchmarks;
/// [`I8Model::forward`] runs it only on CPUs without AVX-512 VNNI). `None` on a CPU without AVX2
/// or for a model outside the fast paths' preconditions (see the module docs). Same bytes as
/// [`I8Model::forward_portable`], in `scratch` too.
pub fn forward_i8_avx2(
    m: &I8Model<'_>,
    pixels: &[u8; IN_LEN],
    scratch: &mut ScratchI8,
) -> Option<[i8; CLASSES]> {
    if !avx2_available() || !i8_eligible(m) {
        return None;
    }
    // SAFETY: `avx2_available()` checked that the CPU has AVX2.
    Some(unsafe { repack_and_run(Isa::Avx2, m, pixels, scratch) })
}

/// Repacks `m`'s convolution weights on the stack (33 KB) and runs `isa`'s kernels.
///
/// # Safety
/// The CPU has `isa`'s features.
unsafe fn repack_and_run(
    isa: Isa,
    m: &I8Model<'_>,
    pixels: &[u8; IN_LEN],
    scratch: &mut ScratchI8,
) -> [i8; CLASSES] {
    let prep = I8Prep::new(m);
    let mut w1 = [[[0i32; 16]; NB1]; G1];
    pack_conv1_into(m.conv1.weights, &mut w1);
    let mut w2 = [[[0i32; 16]; NB2]; G2];
    pack_conv2_into(m.conv2.weights, &mut w2);
    let call = I8Call {
        m,
        prep: &prep,
        w1: &w1,
        w2: &w2,
        pixels,
        convs_only: false,
    };
    // SAFETY: the caller guarantees `isa`'s features.
    unsafe { run_i8(isa, call, scratch) }
}

/// int8 forward pass for [`I8Model::forward`]: `None` when no fast path applies (neither
/// AVX-512 VNNI nor AVX2, or a hand-edited model outside their preconditions). Repacks the
/// convolution weights on the stack (33 KB) every call; [`PackedI8`] does it once.
pub(crate) fn forward_i8(
    m: &I8Model<'_>,
    pixels: &[u8; IN_LEN],
    scratch: &mut ScratchI8,
) -> Option<[i8; CLASSES]> {
    let isa = isa_for(m)?;
    // SAFETY: `isa_for` chose kernels whose features the CPU has.
    Some(unsafe { repack_and_run(isa, m, pixels, scratch) })
}

/// An [`I8Model`] with its convolution weights repacked once for the int8 AVX-512 VNNI or
/// AVX2 kernels (about 35 KB on the heap).
///
/// [`PackedI8::forward`] gives exactly the bytes of [`I8Model::forward`] (and of the portable
/// kernels) on every CPU; it is faster on CPUs with AVX-512 VNNI or AVX2, where it skips the
/// per-call repacking that [`I8Model::forward`] does. Build it once per model:
///
/// ```
/// use lenet_core::{Model, ScratchI8, kernels::x86::PackedI8};
/// # fn run(model: &Model<'_>) {
/// let packed = PackedI8::new(model.int8().unwrap());
/// let mut scratch = ScratchI8::new();
/// let logits = packed.forward(&[0u8; 784], &mut scratch);
/// # let _ = logits;
/// # }
/// ```
pub struct PackedI8<'a> {
    model: I8Model<'a>,
    isa: Option<Isa>,
    prep: I8Prep,
    conv1: Box<PackedConv<G1, NB1>>,
    conv2: Box<PackedConv<G2, NB2>>,
}

impl<'a> PackedI8<'a> {
    /// Repacks `model`'s weights (no-op but a copy of the views when no fast path can run).
    pub fn new(model: &I8Model<'a>) -> Box<Self> {
        let conv1 = pack_conv1(model.conv1.weights);
        let mut conv2 = Box::new([[[0i32; 16]; NB2]; G2]);
        pack_conv2_into(model.conv2.weights, &mut conv2);
        Box::new(Self {
            model: *model,
            isa: isa_for(model),
            prep: I8Prep::new(model),
            conv1,
            conv2,
        })
    }

    /// The model it was built from.
    pub fn model(&self) -> &I8Model<'a> {
        &self.model
    }

    /// The fast kernels' inputs for one image.
    fn call<'s>(&'s self, pixels: &'s [u8; IN_LEN], convs_only: bool) -> I8Call<'s, 'a> {
        I8Call {
            m: &self.model,
            prep: &self.prep,
            w1: &self.conv1,
            w2: &self.conv2,
            pixels,
            convs_only,
        }
    }

    /// Same contract and result as [`I8Model::forward`].
    pub fn forward(&self, pixels: &[u8; IN_LEN], scratch: &mut ScratchI8) -> [i8; CLASSES] {
        match self.isa {
            // SAFETY: `isa_for` chose kernels whose features the CPU has.
            Some(isa) => unsafe { run_i8(isa, self.call(pixels, false), scratch) },
            None => self.model.forward_portable(pixels, scratch),
        }
    }

    /// Only the two convolutions of [`PackedI8::forward`] (for the per-layer benchmark).
    #[doc(hidden)]
    pub fn forward_convs(&self, pixels: &[u8; IN_LEN], scratch: &mut ScratchI8) {
        if let Some(isa) = self.isa {
            // SAFETY: `isa_for` chose kernels whose features the CPU has.
            unsafe { run_i8(isa, self.call(pixels, true), scratch) };
        }
    }
}

// ---------------------------------------------------------------------------------------------
// f32: convolutions with lanes = output columns, dense layers with lanes = output units.

/// Lane masks of the output columns `ox` for which tap `kx` is in bounds (`0 <= ox + kx − 2 < W`),
/// per 16-column vector.
fn tap_masks<const W: usize, const NV: usize>() -> [[__mmask16; NV]; K] {
    let mut m = [[0; NV]; K];
    for (kx, mk) in m.iter_mut().enumerate() {
        for (v, mv) in mk.iter_mut().enumerate() {
            for lane in 0..16 {
                let ox = 16 * v + lane;
                if ox < W && ox + kx >= PAD && ox + kx - PAD < W {
                    *mv |= 1 << lane;
                }
            }
        }
    }
    m
}

/// `act(x)` for ReLU exactly as [`activate_f32`](super::act::activate_f32): `x > 0 ? x : +0`.
#[inline]
#[target_feature(enable = "avx512f")]
fn relu_ps(x: __m512) -> __m512 {
    _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(x, _mm512_setzero_ps()), x)
}

/// One step of the portable pooling rule: `v` replaces `best` if `v > best` or `best == −inf`.
#[inline]
#[target_feature(enable = "avx512f")]
fn pool_step(best: __m512, v: __m512) -> __m512 {
    let take = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, best)
        | _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(best, _mm512_set1_ps(f32::NEG_INFINITY));
    _mm512_mask_mov_ps(best, take, v)
}

/// f32 5x5 "same" convolution + ReLU + 2x2/2 max-pool, bit-identical to
/// [`conv2d_act_pool_f32`](super::conv::conv2d_act_pool_f32) with ReLU.
///
/// `xp` is the input, CHW, each row of `W` values stored from column 2 of a zeroed row of
/// `16·NV + 8` (so that the unaligned loads at offsets `kx` stay in bounds; padding lanes are
/// masked off, never added). `OCB` output channels × `RB` output rows × `NV` vectors are
/// accumulated in registers; each tap adds `w·x` to the lanes where it is in bounds, in the
/// order `ic, ky, kx`.
#[inline]
#[target_feature(enable = "avx512f")]
#[allow(clippy::needless_range_loop)] // `r`, `v`, `b` index several parallel arrays
fn conv_relu_pool_f32<
    const IC: usize,
    const OC: usize,
    const H: usize,
    const W: usize,
    const NV: usize,
    const OCB: usize,
    const RB: usize,
    const WN: usize,
    const OUT: usize,
>(
    xp: &[f32],
    weights: &[f32; WN],
    bias: &[f32; OC],
    out: &mut [f32; OUT],
) {
    const {
        assert!(NV * 16 >= W && NV * 16 < W + 16);
        assert!(OC.is_multiple_of(OCB) && H.is_multiple_of(RB) && RB.is_multiple_of(2));
        assert!(WN == OC * IC * K * K && OUT == OC * (H / 2) * (W / 2));
    }
    let rw = 16 * NV + 8;
    assert!(xp.len() >= IC * H * rw);
    let masks = tap_masks::<W, NV>();
    // Lanes 2j and 2j + 1 of a row, moved to lane j (j < 8), for pooling.
    let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
    let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);
    for oc0 in (0..OC).step_by(OCB) {
        for oy0 in (0..H).step_by(RB) {
            let mut acc = [[[_mm512_setzero_ps(); NV]; RB]; OCB];
            for ic in 0..IC {
                let x_c = &xp[ic * H * rw..(ic + 1) * H * rw];
                for ky in 0..K {
                    for kx in 0..K {
                        let mut w = [_mm512_setzero_ps(); OCB];
                        for (b, wb) in w.iter_mut().enumerate() {
                            *wb =
                                _mm512_set1_ps(weights[(((oc0 + b) * IC + ic) * K + ky) * K + kx]);
                        }
                        for r in 0..RB {
                            // Input row `oy + ky − 2`, if it exists.
                            let iy = oy0 + r + ky;
                            if iy < PAD || iy - PAD >= H {
                                continue;
                            }
                            let row = &x_c[(iy - PAD) * rw..(iy - PAD + 1) * rw];
                            for v in 0..NV {
                                let at = 16 * v + kx;
                                let x = load_ps(row[at..at + 16].try_into().unwrap());
                                let m = masks[kx][v];
                                for b in 0..OCB {
                                    let a = &mut acc[b][r][v];
                                    *a = _mm512_mask_add_ps(*a, m, *a, _mm512_mul_ps(w[b], x));
                                }
                            }
                        }
                    }
                }
            }
            for (b, acc_b) in acc.iter().enumerate() {
                let oc = oc0 + b;
                let bv = _mm512_set1_ps(bias[oc]);
                for (pr, pair) in acc_b.chunks_exact(2).enumerate() {
                    let py = oy0 / 2 + pr;
                    for v in 0..NV {
                        let t = relu_ps(_mm512_add_ps(pair[0][v], bv));
                        let bt = relu_ps(_mm512_add_ps(pair[1][v], bv));
                        let mut best = _mm512_permutexvar_ps(even, t);
                        best = pool_step(best, _mm512_permutexvar_ps(odd, t));
                        best = pool_step(best, _mm512_permutexvar_ps(even, bt));
                        best = pool_step(best, _mm512_permutexvar_ps(odd, bt));
                        let px0 = 8 * v;
                        let n = (W / 2 - px0).min(8);
                        let o = (oc * (H / 2) + py) * (W / 2) + px0;
                        out[o..o + n].copy_from_slice(&lanes_ps(best)[..n]);
                    }
                }
            }
        }
    }
}

/// Row length of the padded f32 conv1 input (two vectors of 16 + 8).
const XF1_ROW: usize = 40;
/// Row length of the padded f32 conv2 input (one vector of 16 + 8).
const XF2_ROW: usize = 24;

/// Both f32 convolutions; leaves pool1 and pool2 in `scratch`.
#[target_feature(enable = "avx512f")]
fn convs_f32(m: &F32Model<'_>, input: &[f32; IN_LEN], scratch: &mut ScratchF32) {
    let mut x1 = [0f32; IN_H * XF1_ROW];
    for (row, src) in x1.chunks_exact_mut(XF1_ROW).zip(input.chunks_exact(IN_W)) {
        row[PAD..PAD + IN_W].copy_from_slice(src);
    }
    conv_relu_pool_f32::<1, C1, IN_H, IN_W, 2, 2, 4, CONV1_W_LEN, POOL1_LEN>(
        &x1,
        m.conv1_w,
        m.conv1_b,
        &mut scratch.pool1,
    );
    let mut x2 = [0f32; C1 * P1 * XF2_ROW];
    for (row, src) in x2
        .chunks_exact_mut(XF2_ROW)
        .zip(scratch.pool1.chunks_exact(P1))
    {
        row[PAD..PAD + P1].copy_from_slice(src);
    }
    conv_relu_pool_f32::<C1, C2, P1, P1, 1, 1, 14, CONV2_W_LEN, FLAT>(
        &x2,
        m.conv2_w,
        m.conv2_b,
        &mut scratch.pool2,
    );
}

/// f32 dense weights repacked for lanes = output units: block `b` holds, for each input `i` in
/// turn, the 16 weights `w[16·b + lane][i]` (zero for padding units).
struct PackedDense {
    w: std::vec::Vec<[f32; 16]>,
    inputs: usize,
}

impl PackedDense {
    fn new(w: &[f32], inputs: usize) -> Self {
        let outs = w.len() / inputs;
        let blocks = outs.div_ceil(16);
        let mut p = std::vec![[0f32; 16]; blocks * inputs];
        for (o, row) in w.chunks_exact(inputs).enumerate() {
            for (i, &v) in row.iter().enumerate() {
                p[(o / 16) * inputs + i][o % 16] = v;
            }
        }
        Self { w: p, inputs }
    }
}

/// f32 dense layer over packed weights, bit-identical to [`dense_f32`](super::dense::dense_f32):
/// each lane is one output unit whose sum runs over ascending `i` from `+0.0`, one multiply and
/// one add per term, then `+ bias` and the optional ReLU. Up to [`DENSE_BLOCKS`] blocks
/// (128 units) at a time, so that enough independent sums are in flight.
#[inline]
#[target_feature(enable = "avx512f")]
fn dense_f32_packed<const OUT: usize>(
    x: &[f32],
    p: &PackedDense,
    bias: &[f32; OUT],
    relu: bool,
    out: &mut [f32; OUT],
) {
    let n = p.inputs;
    assert!(x.len() == n && p.w.len() == OUT.div_ceil(16) * n);
    let blocks = OUT.div_ceil(16);
    let mut b0 = 0;
    while b0 < blocks {
        let nb = (blocks - b0).min(DENSE_BLOCKS);
        let mut acc = [_mm512_setzero_ps(); DENSE_BLOCKS];
        let ws = &p.w[b0 * n..(b0 + nb) * n];
        for (i, &xi) in x.iter().enumerate() {
            let xv = _mm512_set1_ps(xi);
            for (j, a) in acc.iter_mut().enumerate().take(nb) {
                let w = &ws[j * n + i];
                // Fetch the weights a few iterations ahead: the 5 MB matrix streams from L3.
                // A prefetch is only a hint and never faults: the wrapping address needs no bound.
                let ahead: *const [f32; 16] = w;
                _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(PREFETCH).cast());
                *a = _mm512_add_ps(*a, _mm512_mul_ps(load_ps(w), xv));
            }
        }
        for (j, a) in acc.iter().enumerate().take(nb) {
            for (lane, v) in lanes_ps(*a).into_iter().enumerate() {
                let o = 16 * (b0 + j) + lane;
                if o < OUT {
                    let v = v + bias[o];
                    out[o] = if relu {
                        super::act::activate_f32(Activation::Relu, v)
                    } else {
                        v
                    };
                }
            }
        }
        b0 += nb;
    }
}

/// Blocks of 16 units that [`dense_f32_packed`] accumulates together.
const DENSE_BLOCKS: usize = 8;
/// How many inputs ahead [`dense_f32_packed`] prefetches its weights.
const PREFETCH: usize = 16;

/// f32 forward pass for [`F32Model::forward`]: the convolutions run the AVX-512 kernels (they
/// need no repacking); the dense layers run the portable kernels, whose weights would need a
/// 5 MB transposition per call ([`PackedF32`] does it once). `None` without AVX-512 F or for
/// a tanh model.
pub(crate) fn forward_f32(
    m: &F32Model<'_>,
    input: &[f32; IN_LEN],
    scratch: &mut ScratchF32,
) -> Option<[f32; CLASSES]> {
    if !f32_available() || m.activation != Activation::Relu {
        return None;
    }
    // SAFETY: `f32_available()` checked that the CPU has AVX-512 F.
    unsafe { convs_f32(m, input, scratch) };
    super::dense::dense_f32(
        &scratch.pool2,
        m.fc1_w,
        m.fc1_b,
        Some(Activation::Relu),
        &mut scratch.fc1,
    );
    let mut logits = [0f32; CLASSES];
    super::dense::dense_f32(&scratch.fc1, m.fc2_w, m.fc2_b, None, &mut logits);
    Some(logits)
}

/// An [`F32Model`] with its dense weights repacked once (lanes = output units, about 5 MB on the
/// heap) for the AVX-512 kernels.
///
/// [`PackedF32::forward`] gives exactly the bits of [`F32Model::forward`] (and of the portable
/// kernels) on every CPU; on CPUs with AVX-512 F its dense layers are vectorised too. Build it
/// once per model and reuse it.
pub struct PackedF32<'a> {
    model: F32Model<'a>,
    fast: bool,
    fc1: PackedDense,
    fc2: PackedDense,
}

impl<'a> PackedF32<'a> {
    /// Repacks `model`'s dense weights.
    pub fn new(model: &F32Model<'a>) -> Box<Self> {
        Box::new(Self {
            model: *model,
            fast: f32_available() && model.activation == Activation::Relu,
            fc1: PackedDense::new(model.fc1_w, FLAT),
            fc2: PackedDense::new(model.fc2_w, FC1),
        })
    }

    /// The model it was built from.
    pub fn model(&self) -> &F32Model<'a> {
        &self.model
    }

    /// Only the two convolutions of [`PackedF32::forward`] (for the per-layer benchmark).
    #[doc(hidden)]
    pub fn forward_convs(&self, input: &[f32; IN_LEN], scratch: &mut ScratchF32) {
        if self.fast {
            // SAFETY: `fast` implies `f32_available()`: the CPU has AVX-512 F.
            unsafe { convs_f32(&self.model, input, scratch) }
        }
    }

    /// Same contract and result as [`F32Model::forward`].
    pub fn forward(&self, input: &[f32; IN_LEN], scratch: &mut ScratchF32) -> [f32; CLASSES] {
        if !self.fast {
            return self.model.forward_portable(input, scratch);
        }
        // SAFETY: `fast` implies `f32_available()`: the CPU has AVX-512 F.
        unsafe { self.forward_fast(input, scratch) }
    }

    #[target_feature(enable = "avx512f")]
    fn forward_fast(&self, input: &[f32; IN_LEN], scratch: &mut ScratchF32) -> [f32; CLASSES] {
        let m = &self.model;
        convs_f32(m, input, scratch);
        dense_f32_packed(&scratch.pool2, &self.fc1, m.fc1_b, true, &mut scratch.fc1);
        let mut logits = [0f32; CLASSES];
        dense_f32_packed(&scratch.fc1, &self.fc2, m.fc2_b, false, &mut logits);
        logits
    }
}
