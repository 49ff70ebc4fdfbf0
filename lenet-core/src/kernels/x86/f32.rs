//! f32 kernels on AVX-512 F: convolutions with lanes = output columns, dense layers with
//! lanes = the 16 lane sums of lenet-core's f32 dot product, over the blob's weights as they
//! are. No FMA: one `vmulps` and one `vaddps` per term, in the portable kernels' order.

use core::arch::x86_64::*;

use super::simd::{lanes_ps, load_ps, load_ps_partial};
use super::views::F32Layers;
use crate::blob::Activation;
use crate::kernels::act::activate_f32;
use crate::kernels::dense::reduce_f32_lanes;
use crate::shape::{
    C1, C2, CONV1_W_LEN, CONV2_W_LEN, FLAT, IN_H, IN_LEN, IN_W, K, P1, PAD, POOL1_LEN,
};

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

/// `act(x)` for ReLU exactly as [`activate_f32`]: `x > 0 ? x : +0`.
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
/// [`conv2d_act_pool_f32`](crate::kernels::conv::conv2d_act_pool_f32) with ReLU.
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

/// Both f32 convolutions (ReLU); writes pool1 and pool2.
#[target_feature(enable = "avx512f")]
pub(super) fn convs_f32(
    l: &F32Layers<'_>,
    input: &[f32; IN_LEN],
    pool1: &mut [f32; POOL1_LEN],
    pool2: &mut [f32; FLAT],
) {
    let mut x1 = [0f32; IN_H * XF1_ROW];
    for (row, src) in x1.chunks_exact_mut(XF1_ROW).zip(input.chunks_exact(IN_W)) {
        row[PAD..PAD + IN_W].copy_from_slice(src);
    }
    conv_relu_pool_f32::<1, C1, IN_H, IN_W, 2, 2, 4, CONV1_W_LEN, POOL1_LEN>(
        &x1, l.conv1_w, l.conv1_b, pool1,
    );
    let mut x2 = [0f32; C1 * P1 * XF2_ROW];
    for (row, src) in x2.chunks_exact_mut(XF2_ROW).zip(pool1.chunks_exact(P1)) {
        row[PAD..PAD + P1].copy_from_slice(src);
    }
    conv_relu_pool_f32::<C1, C2, P1, P1, 1, 1, 14, CONV2_W_LEN, FLAT>(
        &x2, l.conv2_w, l.conv2_b, pool2,
    );
}

/// f32 dense layer over the blob's `[OUT][IN]` weights, bit-identical to
/// [`dense_f32`](crate::kernels::dense::dense_f32): a row's 16 lane sums are one vector, which
/// adds `w[16k..16k + 16]·x[16k..16k + 16]` (one multiply, one add) for ascending `k`, the last,
/// partial block masked to the inputs that exist; then
/// [`reduce_f32_lanes`](crate::kernels::dense::reduce_f32_lanes), `+ bias` and the optional
/// ReLU. [`ROWS`] rows at a time share each input vector and keep enough independent sums in
/// flight; the last pass overlaps the one before when `OUT % ROWS != 0`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn dense_f32_rows<const IN: usize, const OUT: usize, const WN: usize>(
    x: &[f32; IN],
    w: &[f32; WN],
    bias: &[f32; OUT],
    relu: bool,
    out: &mut [f32; OUT],
) {
    const {
        assert!(WN == IN * OUT && OUT >= ROWS);
    }
    let full = IN / 16;
    let tail = IN % 16;
    for o in (0..OUT).step_by(ROWS) {
        let first = o.min(OUT - ROWS);
        let rows: [&[f32]; ROWS] =
            core::array::from_fn(|r| &w[(first + r) * IN..(first + r + 1) * IN]);
        let mut acc = [_mm512_setzero_ps(); ROWS];
        for k in 0..full {
            let xv = load_ps(x[16 * k..16 * k + 16].try_into().unwrap());
            for (a, row) in acc.iter_mut().zip(&rows) {
                let wv = load_ps(row[16 * k..16 * k + 16].try_into().unwrap());
                *a = _mm512_add_ps(*a, _mm512_mul_ps(wv, xv));
            }
        }
        if tail > 0 {
            let m: __mmask16 = (1 << tail) - 1;
            let xv = load_ps_partial(&x[16 * full..]);
            for (a, row) in acc.iter_mut().zip(&rows) {
                let wv = load_ps_partial(&row[16 * full..]);
                *a = _mm512_mask_add_ps(*a, m, *a, _mm512_mul_ps(wv, xv));
            }
        }
        for (r, a) in acc.iter().enumerate().skip(o - first) {
            let v = reduce_f32_lanes(lanes_ps(*a)) + bias[first + r];
            out[first + r] = if relu {
                activate_f32(Activation::Relu, v)
            } else {
                v
            };
        }
    }
}

/// Rows that [`dense_f32_rows`] accumulates together: two adds per cycle of four cycles'
/// latency need eight independent sums.
const ROWS: usize = 8;
