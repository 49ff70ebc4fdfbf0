//! The x86-64 AVX-512 and AVX2 forward passes are bit-identical to the portable kernels: the
//! committed int8 blob on the golden and on random images, random models of both precisions,
//! extreme weights and inputs, and hand-edited models that must fall back to the portable path.
//!
//! On a CPU without the features the fast paths fall back, and these tests still check that
//! `forward`, the packed models and `forward_portable` agree.
#![cfg(all(target_arch = "x86_64", not(miri)))]

mod common;

use common::{Aligned, Rng};
use lenet_core::kernels::x86::{self, PackedF32, PackedI8};
use lenet_core::{F32Model, I8Model, Model, ScratchF32, ScratchI8};
use proptest::prelude::*;

const RECORD: usize = 784 + 1 + 1 + 10;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `forward`, `PackedI8::forward`, the AVX2 path (where the CPU has AVX2 and the model is
/// eligible) and `forward_portable` give the same logits and scratch.
fn check_i8(q: &I8Model<'_>, packed: &PackedI8<'_>, pixels: &[u8; 784]) {
    let (mut s_ref, mut s_fwd, mut s_pk) = (ScratchI8::new(), ScratchI8::new(), ScratchI8::new());
    let want = q.forward_portable(pixels, &mut s_ref);
    let got = q.forward(pixels, &mut s_fwd);
    let got_pk = packed.forward(pixels, &mut s_pk);
    assert_eq!(got, want, "I8Model::forward");
    assert_eq!(got_pk, want, "PackedI8::forward");
    let mut s_avx2 = ScratchI8::new();
    let mut scratches = vec![&s_fwd, &s_pk];
    if let Some(got_avx2) = x86::forward_i8_avx2(q, pixels, &mut s_avx2) {
        assert_eq!(got_avx2, want, "x86::forward_i8_avx2");
        scratches.push(&s_avx2);
    }
    for s in scratches {
        assert_eq!(s.pool1(), s_ref.pool1());
        assert_eq!(s.pool2(), s_ref.pool2());
        assert_eq!(s.fc1(), s_ref.fc1());
    }
}

/// The bits of f32 values, for exact comparison (-0.0 differs from 0.0). NaNs are compared as
/// NaN only: Rust leaves NaN payloads unspecified (LLVM may commute an addition of two NaNs),
/// even within the portable kernels.
fn bits(v: &[f32]) -> Vec<u32> {
    v.iter()
        .map(|x| if x.is_nan() { 0x7fc0_0000 } else { x.to_bits() })
        .collect()
}

fn check_f32(f: &F32Model<'_>, packed: &PackedF32<'_>, input: &[f32; 784]) {
    let (mut s_ref, mut s_fwd, mut s_pk) =
        (ScratchF32::new(), ScratchF32::new(), ScratchF32::new());
    let want = f.forward_portable(input, &mut s_ref);
    let got = f.forward(input, &mut s_fwd);
    let got_pk = packed.forward(input, &mut s_pk);
    assert_eq!(bits(&got), bits(&want), "F32Model::forward");
    assert_eq!(bits(&got_pk), bits(&want), "PackedF32::forward");
    for s in [&s_fwd, &s_pk] {
        assert_eq!(bits(s.pool1()), bits(s_ref.pool1()));
        assert_eq!(bits(s.pool2()), bits(s_ref.pool2()));
        assert_eq!(bits(s.fc1()), bits(s_ref.fc1()));
    }
}

fn random_pixels(r: &mut Rng) -> [u8; 784] {
    core::array::from_fn(|_| r.range(0, 255) as u8)
}

#[test]
fn features_are_reported_consistently() {
    // int8 needs everything the f32 path needs and more; every AVX-512 CPU has AVX2.
    assert!(!x86::int8_available() || x86::f32_available());
    assert!(!x86::f32_available() || x86::avx2_available());
    eprintln!(
        "int8 AVX-512 path: {}, int8 AVX2 path: {}, f32 fast path: {}",
        x86::int8_available(),
        x86::avx2_available(),
        x86::f32_available()
    );
}

#[test]
fn fixture_blob_int8_is_bit_identical_on_golden_and_random_images() {
    let blob = Aligned::new(&fixture("lenet-int8.blob"));
    let model = Model::parse(blob.bytes()).unwrap();
    let q = model.int8().unwrap();
    let packed = PackedI8::new(q);
    // The committed model is inside the fast paths' preconditions: on an AVX2 CPU the AVX2
    // path runs (and is compared below), whatever else the CPU has.
    let ran_avx2 = x86::forward_i8_avx2(q, &[0; 784], &mut ScratchI8::new()).is_some();
    assert_eq!(ran_avx2, x86::avx2_available());
    for rec in fixture("golden.bin").chunks_exact(RECORD) {
        check_i8(q, &packed, rec[..784].try_into().unwrap());
    }
    let mut r = Rng(7);
    for _ in 0..50 {
        check_i8(q, &packed, &random_pixels(&mut r));
    }
    for p in [0u8, 1, 127, 128, 254, 255] {
        check_i8(q, &packed, &[p; 784]);
    }
}

#[test]
fn int8_extreme_weights_are_bit_identical() {
    use lenet_core::blob::SectionId as S;
    // All weights +127 or all -127, huge multipliers, zero bias: saturating outputs everywhere.
    for w in [127i8, -127] {
        let mut wr = common::writer(5, false, false);
        for [wi, bi, ri] in [
            [S::Conv1WeightQ, S::Conv1BiasQ, S::Conv1Requant],
            [S::Conv2WeightQ, S::Conv2BiasQ, S::Conv2Requant],
            [S::Fc1WeightQ, S::Fc1BiasQ, S::Fc1Requant],
            [S::Fc2WeightQ, S::Fc2BiasQ, S::Fc2Requant],
        ] {
            wr.add_i8(wi, &vec![w; wi.elements()]).unwrap();
            wr.add_i32(bi, &vec![0; bi.elements()]).unwrap();
            let oc = bi.elements();
            let mut rq = vec![i32::MAX; oc];
            rq.extend(std::iter::repeat_n(30, oc));
            wr.add_i32(ri, &rq).unwrap();
        }
        wr.add_i32(S::ZeroPoints, &[-128, -128, 127, -128, 0])
            .unwrap();
        wr.add_f32(S::Scales, &[1.0; 5]).unwrap();
        let bytes = wr.finish().unwrap();
        let blob = Aligned::new(&bytes);
        let model = Model::parse(blob.bytes()).unwrap();
        let q = model.int8().unwrap();
        let packed = PackedI8::new(q);
        for p in [0u8, 1, 200, 255] {
            check_i8(q, &packed, &[p; 784]);
        }
    }
}

#[test]
fn int8_hand_edited_models_fall_back_to_portable() {
    let bytes = common::blob(11);
    let blob = Aligned::new(&bytes);
    let model = Model::parse(blob.bytes()).unwrap();
    let base = *model.int8().unwrap();
    let mut r = Rng(3);
    let pixels = random_pixels(&mut r);
    // Zero points that break `x − in_zp ∈ [0, 255]`, and a clamp below the next zero point.
    let mut edits = Vec::new();
    let mut m = base;
    m.conv1.in_zp = -100;
    edits.push(m);
    let mut m = base;
    m.conv2.in_zp = 5;
    edits.push(m);
    let mut m = base;
    m.fc2.in_zp = -128;
    m.fc1.act_min = -128;
    m.fc1.in_zp = 20;
    edits.push(m);
    let mut m = base;
    m.fc1.act_min = -128;
    m.fc2.in_zp = -100;
    edits.push(m);
    for m in &edits {
        check_i8(m, &PackedI8::new(m), &pixels);
        assert!(x86::forward_i8_avx2(m, &pixels, &mut ScratchI8::new()).is_none());
    }
    // A clamp that changes nothing on this model (conv1's ReLU already clamps at −128).
    let mut m = base;
    m.conv1.act_min = -128;
    check_i8(&m, &PackedI8::new(&m), &pixels);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_int8_models_are_bit_identical(seed in any::<u64>(), img in any::<u64>()) {
        // Bit 1 of the seed picks per-tensor requantization for the dense layers.
        let bytes = if seed & 2 == 0 { common::blob(seed) } else { common::blob_dense_per_tensor(seed) };
        let blob = Aligned::new(&bytes);
        let model = Model::parse(blob.bytes()).unwrap();
        let q = model.int8().unwrap();
        let packed = PackedI8::new(q);
        let mut r = Rng(img | 1);
        check_i8(q, &packed, &random_pixels(&mut r));
    }

    #[test]
    fn random_f32_models_are_bit_identical(seed in any::<u64>(), img in any::<u64>()) {
        let bytes = common::blob(seed);
        let blob = Aligned::new(&bytes);
        let model = Model::parse(blob.bytes()).unwrap();
        let f = model.f32().unwrap();
        let packed = PackedF32::new(f);
        let mut r = Rng(img | 1);
        let input = lenet_core::pixels_to_f32(&random_pixels(&mut r));
        check_f32(f, &packed, &input);
    }
}

#[test]
fn f32_special_values_are_bit_identical() {
    use lenet_core::blob::{Activation, BlobWriter, SectionId};
    // Infinite and NaN weights (a zero pad times inf would be NaN: out-of-bounds taps must be
    // skipped, not multiplied), signed zeros and infinite inputs.
    let mut r = Rng(99);
    let mut w = BlobWriter::new(Activation::Relu);
    for &s in &SectionId::F32_SET {
        let data: Vec<f32> = (0..s.elements())
            .map(|i| match i % 97 {
                0 => f32::INFINITY,
                1 => f32::NEG_INFINITY,
                2 => -0.0,
                3 => f32::NAN,
                _ => r.f32(0.5),
            })
            .collect();
        w.add_f32(s, &data).unwrap();
    }
    let bytes = w.finish().unwrap();
    let blob = Aligned::new(&bytes);
    let model = Model::parse(blob.bytes()).unwrap();
    let f = model.f32().unwrap();
    let packed = PackedF32::new(f);
    let mut input = lenet_core::pixels_to_f32(&random_pixels(&mut r));
    check_f32(f, &packed, &input);
    input[0] = f32::INFINITY;
    input[100] = -0.0;
    input[400] = f32::NEG_INFINITY;
    check_f32(f, &packed, &input);
}

#[test]
fn f32_tanh_models_fall_back_to_portable() {
    let bytes = common::blob(21);
    let blob = Aligned::new(&bytes);
    let model = Model::parse(blob.bytes()).unwrap();
    let mut f = *model.f32().unwrap();
    f.activation = lenet_core::blob::Activation::Tanh;
    let mut r = Rng(5);
    let input = lenet_core::pixels_to_f32(&random_pixels(&mut r));
    check_f32(&f, &PackedF32::new(&f), &input);
}
