//! The int8 output stage on 16 lanes (AVX-512 F): [`requantize`](crate::quant::requantize)
//! (single rounding), `+ out_zp` and the clamp, for 16 output channels at once.
//!
//! It is the scalar stage evaluated lane by lane, not an approximation of it: the product is
//! exact in 64 bits, the rounding term is `2^(t − 1)` and the shift is the flooring `vpsravq`,
//! which is the formula `requantize` states; `requantize`'s 32-bit fast path for multipliers
//! below 1/4 gives the same bits by the argument in its comment. The clamp of the 64-bit value
//! to `[lo − zp, hi − zp]` before adding `zp` equals `requantize`'s saturation to `i32`, the
//! saturating `+ zp` and the clamp to `[lo, hi]` of
//! [`requantize_to_i8`](crate::quant::requantize_to_i8), because `[lo, hi]` lies inside `i32`.
//! `tests/kernels.rs` (`requant_lanes`) checks every lane against the scalar functions: every
//! shift (both of `requantize`'s paths), edge and random multipliers and accumulators, crafted
//! exact ties of both signs and their neighbours, per-channel and per-tensor constants, every
//! zero point and clamp range ([`requantize_x16`] and [`output_stage_x16`] run this module's
//! code on given lanes).
//!
//! The AVX2 path and both dense layers call the scalar
//! [`QuantLayer::output`](super::super::QuantLayer::output) itself.

use core::arch::x86_64::*;

use super::detect::f32_available;
use super::simd::{lanes_i32, load_i32, load_i64};
use crate::kernels::{QuantLayer, Requant};
use crate::quant::{SHIFT_MAX, SHIFT_MIN};

/// Output stage of 16 channels: bias and the requantization constants, padding lanes inert.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct Requant16 {
    bias: [i32; 16],
    mult: [i32; 16],
    /// `31 − shift` of the even / odd lanes (1..=62), as 64-bit counts.
    shift: [[i64; 8]; 2],
    /// `2^(30 − shift)` of the even / odd lanes.
    round: [[i64; 8]; 2],
}

/// Layer-wide output constants: the clamp range, relative to the output zero point.
#[derive(Clone, Copy)]
pub(super) struct OutRange {
    zp: i32,
    /// `max(act_min, −128) − zp`.
    lo: i64,
    /// `min(act_max, 127) − zp`.
    hi: i64,
}

impl OutRange {
    /// The range of layer `l`'s output stage.
    pub(super) fn of<const OC: usize, const WN: usize>(l: &QuantLayer<'_, OC, WN>) -> Self {
        Self {
            zp: l.out_zp,
            lo: i64::from(l.act_min.max(-128)) - i64::from(l.out_zp),
            hi: i64::from(l.act_max.min(127)) - i64::from(l.out_zp),
        }
    }

    /// No zero point and the whole `i32` range: [`requant16`] is then `requantize` alone.
    const REQUANTIZE: Self = Self {
        zp: 0,
        lo: i32::MIN as i64,
        hi: i32::MAX as i64,
    };
}

/// The constants of layer `l`'s output channels in blocks of 16 (`NB · 16 >= OC`).
pub(super) fn requant_blocks<const OC: usize, const WN: usize, const NB: usize>(
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
pub(super) fn requant16(acc: __m512i, r: &Requant16, o: OutRange) -> __m512i {
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

/// [`requant16`] on arrays: the function the VNNI convolutions apply to a window's maxima.
///
/// # Safety
/// The CPU has AVX-512 F.
unsafe fn requant16_lanes(acc: &[i32; 16], r: &Requant16, o: OutRange) -> [i32; 16] {
    #[target_feature(enable = "avx512f")]
    fn run(acc: &[i32; 16], r: &Requant16, o: OutRange) -> [i32; 16] {
        lanes_i32(requant16(load_i32(acc), r, o))
    }
    // SAFETY: the caller guarantees AVX-512 F.
    unsafe { run(acc, r, o) }
}

/// Test hook: the vector requantization of the VNNI convolutions, lane `i` for
/// `(acc[i], multiplier[i], shift[i])`, with no zero point and no clamp but `i32`'s, i.e. what
/// must equal [`requantize`](crate::quant::requantize) lane for lane. `None` on a CPU without
/// AVX-512 F.
#[doc(hidden)]
pub fn requantize_x16(
    acc: &[i32; 16],
    multiplier: &[i32; 16],
    shift: &[i32; 16],
) -> Option<[i32; 16]> {
    if !f32_available() {
        return None;
    }
    let layer = QuantLayer::<16, 0> {
        weights: &[],
        bias: &[0; 16],
        requant: Requant::PerChannel { multiplier, shift },
        in_zp: 0,
        out_zp: 0,
        act_min: i32::MIN,
        act_max: i32::MAX,
    };
    let [r] = requant_blocks::<16, 0, 1>(&layer);
    // SAFETY: `f32_available()` checked that the CPU has AVX-512 F.
    Some(unsafe { requant16_lanes(acc, &r, OutRange::REQUANTIZE) })
}

/// Test hook: the whole output stage of the VNNI convolutions for a 16-channel `layer` (bias,
/// per-channel or per-tensor constants, zero point, clamp), built exactly as the forward pass
/// builds it: lane `i` must equal `layer.output(i, acc[i] + layer.bias[i])`. `None` on a CPU
/// without AVX-512 F.
#[doc(hidden)]
pub fn output_stage_x16<const WN: usize>(
    acc: &[i32; 16],
    layer: &QuantLayer<'_, 16, WN>,
) -> Option<[i32; 16]> {
    if !f32_available() {
        return None;
    }
    let [r] = requant_blocks::<16, WN, 1>(layer);
    // SAFETY: `f32_available()` checked that the CPU has AVX-512 F.
    Some(unsafe { requant16_lanes(acc, &r, OutRange::of(layer)) })
}
