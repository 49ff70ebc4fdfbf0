//! x86-64 AVX-512 and AVX2 forward passes, bit-identical to the portable kernels (host, `std`
//! only).
//!
//! The model (`I8Model::forward`, `F32Model::forward`) calls [`forward_i8`] and [`forward_f32`]
//! and falls back to the portable kernels when they return `None`: a CPU without the features
//! ([`int8_available`], [`avx2_available`], [`f32_available`]; detected once and cached) or
//! layers outside the fast paths' preconditions. int8 runs the AVX-512 VNNI kernels where the
//! CPU has them, else the AVX2 kernels, else nothing ([`forward_i8_isa`] forces one family, for
//! tests and benchmarks). [`PackedI8Layers`] and [`PackedF32Layers`] repack the weights once,
//! which removes the per-call repacking cost (int8) and makes the f32 dense layers
//! vectorisable. These functions take the layers' parameters ([`I8Layers`], [`F32Layers`]) and
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
//! | `f32.rs` | f32 AVX-512 convolutions and packed dense layer |
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

use std::boxed::Box;

use crate::blob::Activation;
use crate::shape::{CLASSES, FC1, FLAT, IN_LEN};

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
pub use views::{F32Buffers, F32Layers, I8Buffers, I8Isa, I8Layers};

use int8::{I8Call, I8Prep, i8_eligible, isa_for, repack_and_run, run_i8};
use pack::{G1, G2, NB1, NB2, PackedConv, PackedDense, pack_conv1, pack_conv2};

/// The int8 family [`forward_i8`] runs for `layers` on this CPU: AVX-512 VNNI if available,
/// else AVX2, and `None` without either or for layers outside the fast paths' preconditions.
pub fn best_i8_isa(layers: &I8Layers<'_>) -> Option<I8Isa> {
    isa_for(layers)
}

/// int8 forward pass on the fastest family ([`best_i8_isa`]): the logits and `out` filled, the
/// same bytes as the portable kernels, or `None` (and `out` untouched) when no family applies.
/// Repacks the convolution weights on the stack (33 KB) every call; [`PackedI8Layers`] does it
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

/// Int8 layers with their convolution weights repacked once (about 35 KB on the heap) for the
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

/// f32 forward pass: the convolutions run the AVX-512 kernels (they need no repacking); the
/// dense layers run the portable kernels, whose weights would need a 5 MB transposition per
/// call ([`PackedF32Layers`] does it once). `None` (and `out` untouched) without AVX-512 F or
/// for a tanh model.
pub fn forward_f32(
    layers: &F32Layers<'_>,
    input: &[f32; IN_LEN],
    out: F32Buffers<'_>,
) -> Option<[f32; CLASSES]> {
    if !f32_available() || layers.activation != Activation::Relu {
        return None;
    }
    let F32Buffers { pool1, pool2, fc1 } = out;
    // SAFETY: `f32_available()` checked that the CPU has AVX-512 F.
    unsafe { f32::convs_f32(layers, input, pool1, pool2) };
    super::dense::dense_f32(
        pool2,
        layers.fc1_w,
        layers.fc1_b,
        Some(Activation::Relu),
        fc1,
    );
    let mut logits = [0f32; CLASSES];
    super::dense::dense_f32(fc1, layers.fc2_w, layers.fc2_b, None, &mut logits);
    Some(logits)
}

/// f32 layers with their dense weights repacked once (lanes = output units, about 5 MB on the
/// heap) for the AVX-512 kernels. Build one per model and reuse it.
pub struct PackedF32Layers<'a> {
    layers: F32Layers<'a>,
    fast: bool,
    fc1: PackedDense,
    fc2: PackedDense,
}

impl<'a> PackedF32Layers<'a> {
    /// Repacks `layers`' dense weights.
    pub fn new(layers: &F32Layers<'a>) -> Self {
        Self {
            layers: *layers,
            fast: f32_available() && layers.activation == Activation::Relu,
            fc1: PackedDense::new(layers.fc1_w, FLAT),
            fc2: PackedDense::new(layers.fc2_w, FC1),
        }
    }

    /// The layers they were built from.
    pub fn layers(&self) -> &F32Layers<'a> {
        &self.layers
    }

    /// Whether [`PackedF32Layers::forward`] runs (AVX-512 F and a ReLU model).
    pub fn accelerated(&self) -> bool {
        self.fast
    }

    /// Only the two convolutions of [`PackedF32Layers::forward`] (for the per-layer benchmark):
    /// fills `pool1` and `pool2`; `false` when not [`accelerated`](Self::accelerated).
    #[doc(hidden)]
    pub fn forward_convs(&self, input: &[f32; IN_LEN], out: F32Buffers<'_>) -> bool {
        if !self.fast {
            return false;
        }
        // SAFETY: `fast` implies `f32_available()`: the CPU has AVX-512 F.
        unsafe { f32::convs_f32(&self.layers, input, out.pool1, out.pool2) };
        true
    }

    /// The whole network on the AVX-512 kernels: the same bits as the portable kernels, or
    /// `None` (and `out` untouched) when not [`accelerated`](Self::accelerated).
    pub fn forward(&self, input: &[f32; IN_LEN], out: F32Buffers<'_>) -> Option<[f32; CLASSES]> {
        if !self.fast {
            return None;
        }
        // SAFETY: `fast` implies `f32_available()`: the CPU has AVX-512 F.
        Some(unsafe { self.forward_fast(input, out) })
    }

    #[target_feature(enable = "avx512f")]
    fn forward_fast(&self, input: &[f32; IN_LEN], out: F32Buffers<'_>) -> [f32; CLASSES] {
        let l = &self.layers;
        let F32Buffers { pool1, pool2, fc1 } = out;
        f32::convs_f32(l, input, pool1, pool2);
        f32::dense_f32_packed(pool2, &self.fc1, l.fc1_b, true, fc1);
        let mut logits = [0f32; CLASSES];
        f32::dense_f32_packed(fc1, &self.fc2, l.fc2_b, false, &mut logits);
        logits
    }
}
