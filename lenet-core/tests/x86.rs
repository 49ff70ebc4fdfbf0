//! The x86-64 dispatch: which kernel family runs, and the fallbacks to the portable kernels.
//!
//! Bit-identity of every family (AVX2, AVX-512 VNNI, AVX-512 F, packed and not) with the
//! reference is checked by the shared harness in `tests/kernels.rs`, which also proves the
//! AVX-512 requantization lane for lane. These tests run on every x86-64 CPU: without the
//! features the fast paths decline and the model falls back.
#![cfg(all(target_arch = "x86_64", not(miri)))]

mod common;

use common::Rng;
use lenet_core::aligned::AlignedBytes;
use lenet_core::kernels::x86::{self, I8Isa};
use lenet_core::model::PackedI8;
use lenet_core::{I8Model, Model, ScratchF32, ScratchI8};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn random_pixels(r: &mut Rng) -> [u8; 784] {
    core::array::from_fn(|_| r.range(0, 255) as u8)
}

#[test]
fn features_are_reported_consistently() {
    // int8 AVX-512 needs everything the f32 path needs and more; every AVX-512 CPU has AVX2.
    assert!(!x86::int8_available() || x86::f32_available());
    assert!(!x86::f32_available() || x86::avx2_available());
    assert_eq!(I8Isa::Avx2.available(), x86::avx2_available());
    assert_eq!(I8Isa::Avx512Vnni.available(), x86::int8_available());
    eprintln!(
        "int8 AVX-512 VNNI: {}, int8 AVX2: {}, f32 AVX-512 F: {}",
        x86::int8_available(),
        x86::avx2_available(),
        x86::f32_available()
    );
}

#[test]
fn dispatch_picks_the_fastest_family_the_cpu_has() {
    let blob = AlignedBytes::new(&fixture("lenet-int8.blob"));
    let model = Model::parse(blob.bytes()).unwrap();
    let q = model.int8().unwrap();
    let want = I8Isa::ALL.into_iter().rev().find(|isa| isa.available());
    assert_eq!(x86::best_i8_isa(&q.x86_layers().unwrap()), want);
    assert_eq!(PackedI8::new(q).isa(), want);
    // Each family runs exactly where the CPU has it.
    for isa in I8Isa::ALL {
        let ran = x86::forward_i8_isa(
            isa,
            &q.x86_layers().unwrap(),
            &[0; 784],
            ScratchI8::new().x86_buffers(),
        );
        assert_eq!(ran.is_some(), isa.available(), "{}", isa.name());
    }
    let bytes = common::blob(3);
    let blob = AlignedBytes::new(&bytes);
    let model = Model::parse(blob.bytes()).unwrap();
    let f = model.f32().unwrap();
    let ran = x86::forward_f32(
        &f.x86_layers(),
        &[0.5; 784],
        ScratchF32::new().x86_buffers(),
    );
    assert_eq!(ran.is_some(), x86::f32_available());
}

/// `forward` and `PackedI8::forward` equal `forward_portable` (logits and buffers) while no
/// fast path may run: every family declines `m`.
fn check_falls_back(m: &I8Model<'_>, pixels: &[u8; 784]) {
    let layers = m.x86_layers().unwrap();
    assert_eq!(x86::best_i8_isa(&layers), None);
    for isa in I8Isa::ALL {
        assert!(
            x86::forward_i8_isa(isa, &layers, pixels, ScratchI8::new().x86_buffers()).is_none()
        );
    }
    assert!(x86::forward_i8(&layers, pixels, ScratchI8::new().x86_buffers()).is_none());
    let packed = PackedI8::new(m);
    assert_eq!(packed.isa(), None);
    let (mut s_ref, mut s_fwd, mut s_pk) = (ScratchI8::new(), ScratchI8::new(), ScratchI8::new());
    let want = m.forward_portable(pixels, &mut s_ref);
    assert_eq!(m.forward(pixels, &mut s_fwd), want, "I8Model::forward");
    assert_eq!(packed.forward(pixels, &mut s_pk), want, "PackedI8::forward");
    for s in [&s_fwd, &s_pk] {
        assert_eq!(s.pool1(), s_ref.pool1());
        assert_eq!(s.pool2(), s_ref.pool2());
        assert_eq!(s.fc1(), s_ref.fc1());
    }
}

#[test]
fn int8_hand_edited_models_fall_back_to_portable() {
    let bytes = common::blob(11);
    let blob = AlignedBytes::new(&bytes);
    let model = Model::parse(blob.bytes()).unwrap();
    let base = *model.int8().unwrap();
    let pixels = random_pixels(&mut Rng(3));
    // Zero points that break `x − in_zp ∈ [0, 255]`, a clamp below the next zero point and a
    // bias beyond 2^30.
    let mut edits = Vec::new();
    let mut m = base;
    m.conv1.in_zp = -100;
    edits.push(m);
    let mut m = base;
    m.conv2.in_zp = 5;
    edits.push(m);
    let mut m = base;
    m.fc2.in_zp = -128;
    m.fc1.int8_mut().unwrap().act_min = -128;
    m.fc1.int8_mut().unwrap().in_zp = 20;
    edits.push(m);
    let mut m = base;
    m.fc1.int8_mut().unwrap().act_min = -128;
    m.fc2.in_zp = -100;
    edits.push(m);
    let big_bias = [(1 << 30) + 1; 20];
    let mut m = base;
    m.conv1.bias = &big_bias;
    edits.push(m);
    for m in &edits {
        check_falls_back(m, &pixels);
    }
    // A clamp that changes nothing on this model (conv1's ReLU already clamps at −128) keeps
    // the fast path.
    let mut m = base;
    m.conv1.act_min = -128;
    assert_eq!(
        x86::best_i8_isa(&m.x86_layers().unwrap()),
        x86::best_i8_isa(&base.x86_layers().unwrap())
    );
}

#[test]
fn f32_tanh_models_fall_back_to_portable() {
    let bytes = common::blob(21);
    let blob = AlignedBytes::new(&bytes);
    let model = Model::parse(blob.bytes()).unwrap();
    let mut f = *model.f32().unwrap();
    f.activation = lenet_core::blob::Activation::Tanh;
    let input = lenet_core::pixels_to_f32(&random_pixels(&mut Rng(5)));
    assert!(x86::forward_f32(&f.x86_layers(), &input, ScratchF32::new().x86_buffers()).is_none());
    let (mut s_ref, mut s_pk) = (ScratchF32::new(), ScratchF32::new());
    let want = f.forward_portable(&input, &mut s_ref);
    let got = f.forward(&input, &mut s_pk);
    assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits));
    assert_eq!(s_pk.fc1().map(f32::to_bits), s_ref.fc1().map(f32::to_bits));
}
