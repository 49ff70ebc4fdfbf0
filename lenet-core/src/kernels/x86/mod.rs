//! x86-64 AVX-512 and AVX2 forward passes, bit-identical to the portable kernels (host, `std`
//! only).
//!
//! The model (`I8Model::forward`, `F32Model::forward`) calls [`forward_i8`] and [`forward_f32`]
//! and falls back to the portable kernels when they return `None`: a CPU without the features
//! ([`int8_available`], [`avx2_available`], [`f32_available`]; detected once and cached) or
//! layers outside the fast paths' preconditions. int8 runs the AVX-512 VNNI kernels where the
//! CPU has them, else the AVX2 kernels, else nothing ([`forward_i8_isa`] forces one family, for
//! tests and benchmarks). [`PackedI8Layers`] repacks the int8 convolution weights once, which
//! removes the per-call repacking cost; the f32 kernels read the blob's weights as they are.
//! These functions take the layers' parameters ([`I8Layers`], [`F32Layers`]) and
//! the buffers to fill ([`I8Buffers`], [`F32Buffers`]) as plain views: the kernels know nothing
//! of the model or its scratch types.
//!
//! | file | contents |
//! |---|---|
//! | `detect.rs` | CPU feature detection |
//! | `simd.rs` | the AVX-512 loads and stores |
//! | `pack.rs` | weight packing and the padded input layouts |
//! | `requant.rs` | the int8 output stage on 16 lanes |
//! | `vnni.rs` | int8 AVX-512 VNNI convolution window and dense layer |
//! | `avx2.rs` | int8 AVX2 convolution window and dense layer |
//! | `int8.rs` | the int8 forward pass over either family, eligibility |
//! | `f32.rs` | f32 AVX-512 convolutions and dense layer |
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
//!   single-rounding formula of [`requantize`](crate::quant::requantize), vectorised per lane
//!   (`requant.rs`; `tests/kernels.rs` proves it lane for lane against the scalar function).
//! - **int8 on AVX2**: the same packed weights and the same precondition; each `w` and each
//!   `x − in_zp` is widened to `i16` and `vpmaddwd` adds two exact products (each at most
//!   `255·128` in magnitude) into an `i32` lane, so the sums are again exact. The requantization
//!   of the pooled maxima and the dense layers' output stage call the scalar
//!   [`QuantLayer::output`](crate::kernels::QuantLayer::output) itself, so there is nothing to
//!   diverge.
//!   Layers that break the preconditions (possible only by editing
//!   [`QuantLayer`](crate::kernels::QuantLayer) fields by hand) make [`forward_i8`] return
//!   `None`, and the model runs the portable kernels.
//! - **f32** (AVX-512 F): in the convolutions lanes are output columns, never terms of one
//!   sum, so every output still receives its terms one at a time in the documented order (`ic,
//!   ky, kx` ascending); in the dense layers the 16 lanes of a vector are exactly the 16 lane
//!   sums of the f32 dot product's definition
//!   ([`dot_f32_order`](crate::kernels::dense::dot_f32_order)), reduced by the same function.
//!   Each term is a separate multiply and add (no FMA is ever emitted: Rust does not contract,
//!   and the intrinsics used are `mul` and `add`). Out-of-bounds taps are skipped with lane masks rather than multiplied by a zero pad,
//!   so even infinite or NaN weights give the portable bits. Only ReLU models are accelerated;
//!   tanh models run the portable kernels.
//!
//! Under Miri this module is not compiled and everything runs the portable kernels.
#![allow(unsafe_code)]

use std::boxed::Box;

use crate::blob::Activation;
use crate::shape::{C1, C2, CLASSES, F32_BATCH, IN_C, IN_H, IN_LEN, IN_W, P1};

mod avx2;
mod detect;
mod f32;
mod int8;
mod pack;
mod requant;
mod simd;
mod views;
mod vnni;

pub use detect::{avx2_available, f32_available, int8_available};
#[doc(hidden)]
pub use requant::{output_stage_x16, requantize_x16};
pub use views::{F32BatchBuffers, F32Buffers, F32Layers, I8Buffers, I8Isa, I8Layers, LANE_IMAGES};

use int8::{I8Call, I8Prep, i8_eligible, isa_for, repack_and_run, run_i8};
use pack::{G1, G2, NB1, NB2, PackedConv, pack_conv1, pack_conv2};

/// The int8 family [`forward_i8`] runs for `layers` on this CPU: AVX-512 VNNI if available,
/// else AVX2, and `None` without either or for layers outside the fast paths' preconditions.
pub fn best_i8_isa(layers: &I8Layers<'_>) -> Option<I8Isa> {
    isa_for(layers)
}

/// int8 forward pass on the fastest family ([`best_i8_isa`]): the logits and `out` filled, the
/// same bytes as the portable kernels, or `None` (and `out` untouched) when no family applies.
/// Repacks the convolution weights on the stack (33,280 B) every call; [`PackedI8Layers`] does it
/// once.
pub fn forward_i8(
    layers: &I8Layers<'_>,
    pixels: &[u8; IN_LEN],
    out: I8Buffers<'_>,
) -> Option<[i8; CLASSES]> {
    let isa = isa_for(layers)?;
    // SAFETY: `isa_for` chose kernels whose features the CPU has.
    Some(unsafe { repack_and_run(isa, layers, pixels, out) })
}

/// [`forward_i8`] with family `isa`, whatever else the CPU has (for tests and benchmarks).
/// `None` on a CPU without `isa` or for layers outside the fast paths' preconditions.
pub fn forward_i8_isa(
    isa: I8Isa,
    layers: &I8Layers<'_>,
    pixels: &[u8; IN_LEN],
    out: I8Buffers<'_>,
) -> Option<[i8; CLASSES]> {
    if !isa.available() || !i8_eligible(layers) {
        return None;
    }
    // SAFETY: `isa.available()` checked that the CPU has `isa`'s features.
    Some(unsafe { repack_and_run(isa, layers, pixels, out) })
}

/// Int8 layers with their convolution weights repacked once (33,280 B on the heap) for the
/// family [`best_i8_isa`] picks. Build one per model and reuse it for every image.
pub struct PackedI8Layers<'a> {
    layers: I8Layers<'a>,
    isa: Option<I8Isa>,
    prep: I8Prep,
    conv1: Box<PackedConv<G1, NB1>>,
    conv2: Box<PackedConv<G2, NB2>>,
}

impl<'a> PackedI8Layers<'a> {
    /// Repacks `layers`' convolution weights.
    pub fn new(layers: &I8Layers<'a>) -> Self {
        Self {
            layers: *layers,
            isa: isa_for(layers),
            prep: I8Prep::new(layers),
            conv1: pack_conv1(layers.conv1.weights),
            conv2: pack_conv2(layers.conv2.weights),
        }
    }

    /// The layers they were built from.
    pub fn layers(&self) -> &I8Layers<'a> {
        &self.layers
    }

    /// The family [`PackedI8Layers::forward`] runs, if any.
    pub fn isa(&self) -> Option<I8Isa> {
        self.isa
    }

    /// The inputs of the fast kernels for one image.
    fn call<'s>(&'s self, pixels: &'s [u8; IN_LEN], convs_only: bool) -> I8Call<'s, 'a> {
        I8Call {
            m: &self.layers,
            prep: &self.prep,
            w1: &self.conv1,
            w2: &self.conv2,
            pixels,
            convs_only,
        }
    }

    /// As [`forward_i8`], without the repacking.
    pub fn forward(&self, pixels: &[u8; IN_LEN], out: I8Buffers<'_>) -> Option<[i8; CLASSES]> {
        let isa = self.isa?;
        // SAFETY: `isa_for` chose kernels whose features the CPU has.
        Some(unsafe { run_i8(isa, self.call(pixels, false), out) })
    }

    /// Only the two convolutions of [`PackedI8Layers::forward`] (for the per-layer benchmark):
    /// fills `input`, `pool1` and `pool2`; `false` when no family applies.
    #[doc(hidden)]
    pub fn forward_convs(&self, pixels: &[u8; IN_LEN], out: I8Buffers<'_>) -> bool {
        let Some(isa) = self.isa else { return false };
        // SAFETY: `isa_for` chose kernels whose features the CPU has.
        unsafe { run_i8(isa, self.call(pixels, true), out) };
        true
    }
}

/// f32 forward pass on AVX-512 F: the convolutions and both dense layers, over the blob's
/// weights as they are (nothing to repack): the same bits as the portable kernels. `None` (and
/// `out` untouched) without AVX-512 F or for a tanh model.
pub fn forward_f32(
    layers: &F32Layers<'_>,
    input: &[f32; IN_LEN],
    out: F32Buffers<'_>,
) -> Option<[f32; CLASSES]> {
    if !f32_available() || layers.activation != Activation::Relu {
        return None;
    }
    // SAFETY: `f32_available()` checked that the CPU has AVX-512 F.
    Some(unsafe { forward_f32_avx512(layers, input, out) })
}

#[target_feature(enable = "avx512f")]
fn forward_f32_avx512(
    l: &F32Layers<'_>,
    input: &[f32; IN_LEN],
    out: F32Buffers<'_>,
) -> [f32; CLASSES] {
    let F32Buffers {
        pool1,
        pool2,
        fc1,
        fc1_reverse,
    } = out;
    f32::convs_f32(l, input, pool1, pool2);
    // fc1's 4.9 MB of weights do not fit in L2: each call runs its rows the other way round
    // from the call before, so that the rows that call read last, still in cache, come first.
    f32::dense_f32_rows(pool2, l.fc1_w, l.fc1_b, true, fc1, *fc1_reverse);
    *fc1_reverse = !*fc1_reverse;
    let mut logits = [0f32; CLASSES];
    f32::dense_f32_rows(fc1, l.fc2_w, l.fc2_b, false, &mut logits, false);
    logits
}

/// [`forward_f32`] for each image of `inputs`: `logits[i]` gets the logits of `inputs[i]`, bit
/// for bit those of [`forward_f32`] (and so of the portable pass). The convolution weights are
/// transposed once per call; then groups of [`F32_BATCH`] images run in turn. The convolutions
/// take 16 images at once, one per lane, so no lane is spent on padding or on taps outside the
/// image; fc1 takes 8 images at a time, which reads its 4.9 MB of weights once per group instead
/// of once per image. `out` is left with the last group's maps. `false` (nothing written)
/// where [`forward_f32`] returns `None`.
///
/// # Panics
/// If `inputs` and `logits` differ in length.
pub fn forward_f32_batch(
    layers: &F32Layers<'_>,
    inputs: &[[f32; IN_LEN]],
    out: F32BatchBuffers<'_>,
    logits: &mut [[f32; CLASSES]],
) -> bool {
    assert_eq!(
        inputs.len(),
        logits.len(),
        "forward_f32_batch: one row of logits per input"
    );
    if !f32_available() || layers.activation != Activation::Relu {
        return false;
    }
    // SAFETY: `f32_available()` checked that the CPU has AVX-512 F.
    unsafe { forward_f32_batch_avx512(layers, inputs, out, logits) };
    true
}

#[target_feature(enable = "avx512f")]
fn forward_f32_batch_avx512(
    l: &F32Layers<'_>,
    inputs: &[[f32; IN_LEN]],
    out: F32BatchBuffers<'_>,
    logits: &mut [[f32; CLASSES]],
) {
    let F32BatchBuffers {
        pool2,
        fc1,
        input_lanes,
        pool1_lanes,
        pool2_lanes,
        conv1_wt,
        conv2_wt,
    } = out;
    f32::transpose_conv_weights::<C1, IN_C>(l.conv1_w, conv1_wt);
    f32::transpose_conv_weights::<C2, C1>(l.conv2_w, conv2_wt);
    for (xs, ls) in inputs.chunks(F32_BATCH).zip(logits.chunks_mut(F32_BATCH)) {
        let n = xs.len();
        for (group, p2) in xs.chunks(LANE_IMAGES).zip(pool2.chunks_mut(LANE_IMAGES)) {
            // Lanes past the last image hold zeros: computed, never read.
            for (j, px) in input_lanes.chunks_exact_mut(LANE_IMAGES).enumerate() {
                for (b, v) in px.iter_mut().enumerate() {
                    *v = group.get(b).map_or(0.0, |x| x[j]);
                }
            }
            f32::conv_lanes::<IN_C, C1, IN_H, IN_W, 10>(
                input_lanes,
                conv1_wt,
                l.conv1_b,
                pool1_lanes,
            );
            f32::conv_lanes::<C1, C2, P1, P1, 10>(pool1_lanes, conv2_wt, l.conv2_b, pool2_lanes);
            for (b, image) in p2.iter_mut().enumerate() {
                for (j, v) in image.iter_mut().enumerate() {
                    *v = pool2_lanes[j * LANE_IMAGES + b];
                }
            }
        }
        let tiled = n - n % f32::TILE_IMAGES;
        f32::dense_f32_batch(&pool2[..tiled], l.fc1_w, l.fc1_b, true, &mut fc1[..tiled]);
        for (p2, h) in pool2[tiled..n].iter().zip(&mut fc1[tiled..n]) {
            f32::dense_f32_rows(p2, l.fc1_w, l.fc1_b, true, h, false);
        }
        for (h, y) in fc1[..n].iter().zip(ls.iter_mut()) {
            f32::dense_f32_rows(h, l.fc2_w, l.fc2_b, false, y, false);
        }
    }
}

/// Only the two f32 convolutions of [`forward_f32`] (for the per-layer benchmark): fills
/// `pool1` and `pool2`; `false` (nothing written) where [`forward_f32`] returns `None`.
#[doc(hidden)]
pub fn forward_f32_convs(
    layers: &F32Layers<'_>,
    input: &[f32; IN_LEN],
    out: F32Buffers<'_>,
) -> bool {
    if !f32_available() || layers.activation != Activation::Relu {
        return false;
    }
    // SAFETY: `f32_available()` checked that the CPU has AVX-512 F.
    unsafe { f32::convs_f32(layers, input, out.pool1, out.pool2) };
    true
}
