//! f32 kernels on AVX-512 F: convolutions with lanes = output columns, dense layers with
//! lanes = the 16 lane sums of lenet-core's f32 dot product, over the blob's weights as they
//! are. No FMA: one `vmulps` and one `vaddps` per term, in the portable kernels' order.

use core::arch::x86_64::*;

use super::simd::{lanes_ps, load_ps, load_ps_partial, store_ps};
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
    conv_relu_pool_f32::<1, C1, IN_H, IN_W, 2, 5, 2, CONV1_W_LEN, POOL1_LEN>(
        &x1, l.conv1_w, l.conv1_b, pool1,
    );
    let mut x2 = [0f32; C1 * P1 * XF2_ROW];
    for (row, src) in x2.chunks_exact_mut(XF2_ROW).zip(pool1.chunks_exact(P1)) {
        row[PAD..PAD + P1].copy_from_slice(src);
    }
    conv_relu_pool_f32::<C1, C2, P1, P1, 1, 10, 2, CONV2_W_LEN, FLAT>(
        &x2, l.conv2_w, l.conv2_b, pool2,
    );
}

/// f32 dense layer over the blob's `[OUT][IN]` weights, bit-identical to
/// [`dense_f32`](crate::kernels::dense::dense_f32): a row's 16 lane sums are one vector, which
/// adds `w[16k..16k + 16]·x[16k..16k + 16]` (one multiply, one add) for ascending `k`, the last,
/// partial block masked to the inputs that exist; then
/// [`reduce_f32_lanes`](crate::kernels::dense::reduce_f32_lanes), `+ bias` and the optional
/// ReLU. [`ROWS`] rows at a time share each input vector and keep enough independent sums in
/// flight; the last block overlaps the one before when `OUT % ROWS != 0` (and writes only its
/// new rows). The next block's rows are prefetched into L2 while a block runs. `reverse` runs
/// the blocks from the last to the first: the rows do not depend on each other, so the order
/// changes no bit, and a caller that alternates it reads first the rows its previous call left
/// in cache.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn dense_f32_rows<const IN: usize, const OUT: usize, const WN: usize>(
    x: &[f32; IN],
    w: &[f32; WN],
    bias: &[f32; OUT],
    relu: bool,
    out: &mut [f32; OUT],
    reverse: bool,
) {
    const {
        assert!(WN == IN * OUT && OUT >= ROWS);
    }
    let full = IN / 16;
    let tail = IN % 16;
    let blocks = OUT.div_ceil(ROWS);
    for step in 0..blocks {
        // This block and the next one in the order of the pass.
        let (block, next) = if reverse {
            (blocks - 1 - step, (blocks - 1 - step).saturating_sub(1))
        } else {
            (step, (step + 1).min(blocks - 1))
        };
        let o = block * ROWS;
        let first = o.min(OUT - ROWS);
        let rows: [&[f32]; ROWS] =
            core::array::from_fn(|r| &w[(first + r) * IN..(first + r + 1) * IN]);
        let mut acc = [_mm512_setzero_ps(); ROWS];
        // The next block of rows, fetched into L2 while this one runs (a stream of 8 rows).
        let ahead = (next * ROWS).min(OUT - ROWS) * IN;
        for k in 0..full {
            let xv = load_ps(x[16 * k..16 * k + 16].try_into().unwrap());
            for r in 0..ROWS {
                _mm_prefetch::<_MM_HINT_T1>(w[ahead + r * IN + 16 * k..].as_ptr().cast());
            }
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

/// Images that one tile of [`dense_f32_batch`] accumulates together.
pub(super) const TILE_IMAGES: usize = 8;
/// Rows that one tile of [`dense_f32_batch`] accumulates together: 2 weight vectors and
/// `2 x 8` sums stay in registers (with 3 rows the compiler spilled sums to the stack).
const TILE_ROWS: usize = 2;

/// [`dense_f32_rows`] for several images at once, bit-identical to it image by image: each
/// `(row, image)` pair has its own vector of 16 lane sums, which adds the same terms in the same
/// order. A tile of [`TILE_ROWS`] rows x [`TILE_IMAGES`] images loads each weight vector once for
/// 8 images, and a block of rows is reused by every tile of images while it is in cache, so the
/// weights stream from memory once per call rather than once per image. `xs.len()` (=
/// `outs.len()`) must be a multiple of [`TILE_IMAGES`].
#[inline]
#[target_feature(enable = "avx512f")]
#[allow(clippy::needless_range_loop)] // `r`, `i` index the tile's parallel arrays
pub(super) fn dense_f32_batch<const IN: usize, const OUT: usize, const WN: usize>(
    xs: &[[f32; IN]],
    w: &[f32; WN],
    bias: &[f32; OUT],
    relu: bool,
    outs: &mut [[f32; OUT]],
) {
    const {
        assert!(WN == IN * OUT && OUT >= TILE_ROWS);
    }
    assert!(xs.len() == outs.len() && xs.len().is_multiple_of(TILE_IMAGES));
    let full = IN / 16;
    let tail = IN % 16;
    let m: __mmask16 = ((1u32 << tail) - 1) as __mmask16;
    for o in (0..OUT).step_by(TILE_ROWS) {
        let first = o.min(OUT - TILE_ROWS);
        let rows: [&[f32]; TILE_ROWS] =
            core::array::from_fn(|r| &w[(first + r) * IN..(first + r + 1) * IN]);
        for (xt, ot) in xs
            .chunks_exact(TILE_IMAGES)
            .zip(outs.chunks_exact_mut(TILE_IMAGES))
        {
            let mut acc = [[_mm512_setzero_ps(); TILE_IMAGES]; TILE_ROWS];
            for k in 0..full {
                let wv: [__m512; TILE_ROWS] = core::array::from_fn(|r| {
                    load_ps(rows[r][16 * k..16 * k + 16].try_into().unwrap())
                });
                for i in 0..TILE_IMAGES {
                    let xv = load_ps(xt[i][16 * k..16 * k + 16].try_into().unwrap());
                    for r in 0..TILE_ROWS {
                        acc[r][i] = _mm512_add_ps(acc[r][i], _mm512_mul_ps(wv[r], xv));
                    }
                }
            }
            if tail > 0 {
                let wv: [__m512; TILE_ROWS] =
                    core::array::from_fn(|r| load_ps_partial(&rows[r][16 * full..]));
                for i in 0..TILE_IMAGES {
                    let xv = load_ps_partial(&xt[i][16 * full..]);
                    for r in 0..TILE_ROWS {
                        let a = acc[r][i];
                        acc[r][i] = _mm512_mask_add_ps(a, m, a, _mm512_mul_ps(wv[r], xv));
                    }
                }
            }
            for r in 0..TILE_ROWS {
                if first + r < o {
                    continue; // done by the block before (the last block overlaps it)
                }
                for i in 0..TILE_IMAGES {
                    let v = reduce_f32_lanes(lanes_ps(acc[r][i])) + bias[first + r];
                    ot[i][first + r] = if relu {
                        activate_f32(Activation::Relu, v)
                    } else {
                        v
                    };
                }
            }
        }
    }
}

use super::views::LANE_IMAGES as LANES;

/// f32 5x5 "same" convolution + ReLU + 2x2/2 max-pool of `LANES` (16) images at once, lane `b`
/// holding image `b`: bit-identical, image by image, to
/// [`conv2d_act_pool_f32`](crate::kernels::conv::conv2d_act_pool_f32) with ReLU.
///
/// `x` is `[IC][H][W][LANES]`, `wt` the weights as `[IC][K][K][OC]` ([`transpose_conv_weights`]),
/// `out` `[OC][H/2][W/2][LANES]`. A lane never mixes images, so each output still receives its
/// terms one at a time in the portable order (`ic, ky, kx` ascending, from `+0.0`), and a tap
/// outside the input is skipped for all lanes alike: no lane is wasted on padding. `OCB` output
/// channels of one pooling window are accumulated together (each input vector serves `OCB`
/// multiplies), then bias, ReLU and the pooling rule in the order top-left, top-right,
/// bottom-left, bottom-right.
#[inline]
#[target_feature(enable = "avx512f")]
#[allow(clippy::needless_range_loop)] // `b` indexes the parallel `acc`/`best` arrays
pub(super) fn conv_lanes<
    const IC: usize,
    const OC: usize,
    const H: usize,
    const W: usize,
    const OCB: usize,
>(
    x: &[f32],
    wt: &[f32],
    bias: &[f32; OC],
    out: &mut [f32],
) {
    const {
        assert!(OC.is_multiple_of(OCB) && H.is_multiple_of(2) && W.is_multiple_of(2));
    }
    assert!(x.len() == IC * H * W * LANES && wt.len() == IC * K * K * OC);
    assert!(out.len() == OC * (H / 2) * (W / 2) * LANES);
    // The taps of output coordinate `o` that fall inside the input: `lo..hi`.
    let taps = |o: usize, n: usize| (PAD.saturating_sub(o), K.min(n + PAD - o));
    for oc0 in (0..OC).step_by(OCB) {
        for py in 0..H / 2 {
            for px in 0..W / 2 {
                let mut best = [_mm512_setzero_ps(); OCB];
                for (q, (oy, ox)) in [(0, 0), (0, 1), (1, 0), (1, 1)]
                    .map(|(dy, dx)| (2 * py + dy, 2 * px + dx))
                    .into_iter()
                    .enumerate()
                {
                    let (ky0, ky1) = taps(oy, H);
                    let (kx0, kx1) = taps(ox, W);
                    let mut acc = [_mm512_setzero_ps(); OCB];
                    let mut tap = |ic: usize, ky: usize, kx: usize| {
                        let at = ((ic * H + oy + ky - PAD) * W + ox + kx - PAD) * LANES;
                        let xv = load_ps(x[at..at + LANES].try_into().unwrap());
                        let t0 = ((ic * K + ky) * K + kx) * OC + oc0;
                        let w = &wt[t0..t0 + OCB];
                        for b in 0..OCB {
                            let t = _mm512_mul_ps(_mm512_set1_ps(w[b]), xv);
                            acc[b] = _mm512_add_ps(acc[b], t);
                        }
                    };
                    if (ky0, ky1, kx0, kx1) == (0, K, 0, K) {
                        // Inside the image: all 25 taps, with constant bounds.
                        for ic in 0..IC {
                            for ky in 0..K {
                                for kx in 0..K {
                                    tap(ic, ky, kx);
                                }
                            }
                        }
                    } else {
                        for ic in 0..IC {
                            for ky in ky0..ky1 {
                                for kx in kx0..kx1 {
                                    tap(ic, ky, kx);
                                }
                            }
                        }
                    }
                    for b in 0..OCB {
                        let v = relu_ps(_mm512_add_ps(acc[b], _mm512_set1_ps(bias[oc0 + b])));
                        best[b] = if q == 0 { v } else { pool_step(best[b], v) };
                    }
                }
                for b in 0..OCB {
                    let at = (((oc0 + b) * (H / 2) + py) * (W / 2) + px) * LANES;
                    store_ps((&mut out[at..at + LANES]).try_into().unwrap(), best[b]);
                }
            }
        }
    }
}

/// OIHW convolution weights `[OC][IC][K][K]` as `[IC][K][K][OC]` (the `OCB` weights of one tap
/// side by side, for [`conv_lanes`]).
pub(super) fn transpose_conv_weights<const OC: usize, const IC: usize>(w: &[f32], wt: &mut [f32]) {
    assert!(w.len() == OC * IC * K * K && wt.len() == w.len());
    for oc in 0..OC {
        for t in 0..IC * K * K {
            wt[t * OC + oc] = w[oc * IC * K * K + t];
        }
    }
}
