//! Cross-crate parity on real MNIST: burn vs lenet-core f32, the host quantizer vs the core's
//! reader, float vs int8, and training determinism. Needs the MNIST files (`$MNIST_DIR`).

use std::sync::OnceLock;

use burn::prelude::Device;
use host::data::{self, Mnist};
use host::eval;
use host::export::{AlignedBlob, f32_blob};
use host::model::{FlatParams, LeNet, logits};
use host::quantize::{self, Granularity, Precision};
use host::train::{self, Backend, Optimizer, Schedule, TrainConfig, Verbosity};
use lenet_core::Model;

fn mnist() -> &'static Mnist {
    static DATA: OnceLock<Mnist> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = data::resolve_dir(None);
        data::load(&dir).unwrap_or_else(|e| panic!("set MNIST_DIR to the MNIST files: {e}"))
    })
}

fn device() -> Device {
    Backend::Flex.device()
}

/// Adam 1e-3 (constant), one pass over 12,000 training images: a real, short training run.
fn short_config() -> TrainConfig {
    TrainConfig {
        epochs: 1,
        batch_size: 128,
        lr: 1e-3,
        optimizer: Optimizer::Adam,
        schedule: Schedule::Constant,
        max_shift: 0,
        train_limit: Some(12_000),
        test_limit: Some(2_000),
        ..TrainConfig::recipe(train::Recipe::Best)
    }
}

fn trained() -> &'static (LeNet, f64) {
    static MODEL: OnceLock<(LeNet, f64)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let (model, history) =
            train::train(&short_config(), mnist(), &device(), Verbosity::Quiet).unwrap();
        (model, history[0].test_acc)
    })
}

#[test]
fn short_training_run_reaches_accuracy_threshold() {
    let (_, acc) = trained();
    eprintln!(
        "test accuracy after 94 Adam steps on 12k images: {:.2}%",
        acc * 100.0
    );
    // Measured 95.00 % (seed 42, flex; the run is deterministic). A broken loss, init or data
    // path lands far below.
    assert!(*acc > 0.93, "accuracy {acc}");
}

#[test]
fn burn_and_core_f32_logits_agree_on_1000_test_images() {
    let (model, _) = trained();
    let test = mnist().test.take(1000);
    let burn_logits = logits(model, &test.images, &device());
    let blob = AlignedBlob::new(&f32_blob(&FlatParams::from_model(model)).unwrap());
    let m = Model::parse(blob.bytes()).unwrap();
    let core = eval::run_f32(m.f32().unwrap(), &test);
    let mut worst = 0.0f32;
    for (b, c) in burn_logits.iter().zip(&core) {
        let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
        for (x, y) in b.iter().zip(&c.logits) {
            worst = worst.max((x - y).abs() / scale);
        }
        assert_eq!(lenet_core::kernels::act::argmax_f32(b) as u8, c.digit);
    }
    eprintln!("max |burn - core| / max|burn logit| over 1000 images: {worst:e}");
    assert!(worst <= 1e-4, "relative difference {worst}");
}

#[test]
fn exported_int8_tensors_equal_core_views_byte_for_byte() {
    for dense in [Granularity::PerTensor, Granularity::PerChannel] {
        exported_int8_tensors_equal_core_views(dense);
    }
}

fn exported_int8_tensors_equal_core_views(dense: Granularity) {
    let (model, _) = trained();
    let params = FlatParams::from_model(model);
    let ranges = quantize::calibrate(&params, &mnist().train, 300).unwrap();
    let q = quantize::quantize(&params, &ranges, dense).unwrap();
    let bytes = quantize::build_blob(&params, Precision::Both, &mnist().train, 300, dense).unwrap();
    let blob = AlignedBlob::new(&bytes);
    let m = Model::parse(blob.bytes()).unwrap();
    let core = m.int8().unwrap();
    // Convolutions always per channel; the dense layers as asked.
    let per_tensor = dense == Granularity::PerTensor;
    assert!(!core.conv1.requant.is_per_tensor() && !core.conv2.requant.is_per_tensor());
    assert_eq!(core.fc1.requant.is_per_tensor(), per_tensor);
    assert_eq!(core.fc2.requant.is_per_tensor(), per_tensor);
    // An int8-only blob with per-tensor dense layers fits in 1,260,000 bytes.
    let int8_only =
        quantize::build_blob(&params, Precision::Int8, &mnist().train, 300, dense).unwrap();
    assert_eq!(
        int8_only.len() <= 1_260_000,
        per_tensor,
        "{} bytes",
        int8_only.len()
    );
    let views = [
        (
            &core.conv1.weights[..],
            &core.conv1.bias[..],
            core.conv1.requant.multipliers(),
            core.conv1.requant.shifts(),
        ),
        (
            &core.conv2.weights[..],
            &core.conv2.bias[..],
            core.conv2.requant.multipliers(),
            core.conv2.requant.shifts(),
        ),
        (
            &core.fc1.weights[..],
            &core.fc1.bias[..],
            core.fc1.requant.multipliers(),
            core.fc1.requant.shifts(),
        ),
        (
            &core.fc2.weights[..],
            &core.fc2.bias[..],
            core.fc2.requant.multipliers(),
            core.fc2.requant.shifts(),
        ),
    ];
    for (layer, (w, b, m, s)) in q.layers.iter().zip(views) {
        assert_eq!(layer.weights, w);
        assert_eq!(layer.bias, b);
        assert_eq!(layer.multiplier, m);
        assert_eq!(layer.shift, s);
    }
    assert_eq!(&q.zero_points, core.zero_points);
    assert_eq!(q.scales.map(f32::to_bits), core.scales().map(f32::to_bits));
    // The f32 part of the same blob is the burn model's parameters, bit for bit.
    assert_eq!(FlatParams::from_core(m.f32().unwrap()), params);
}

#[test]
fn int8_agrees_with_f32_on_test_subset() {
    let (model, _) = trained();
    let params = FlatParams::from_model(model);
    let bytes = quantize::build_blob(
        &params,
        Precision::Both,
        &mnist().train,
        1000,
        Granularity::PerTensor,
    )
    .unwrap();
    let blob = AlignedBlob::new(&bytes);
    let m = Model::parse(blob.bytes()).unwrap();
    let test = mnist().test.take(2000);
    let f: Vec<u8> = eval::run_f32(m.f32().unwrap(), &test)
        .iter()
        .map(|a| a.digit)
        .collect();
    let q: Vec<u8> = eval::run_int8(m.int8().unwrap(), &test)
        .iter()
        .map(|a| a.digit)
        .collect();
    let agree = eval::agreement(&f, &q);
    let acc = |d: &[u8]| eval::Report::new(d.iter().copied(), &test.labels).accuracy_pct();
    eprintln!(
        "f32 {:.2}% int8 {:.2}% agreement {:.2}%",
        acc(&f),
        acc(&q),
        agree * 100.0
    );
    // Measured 99.80 % for this briefly trained model (seed 42, flex, 1,000 calibration images).
    assert!(agree >= 0.995, "agreement {agree}");
    assert!((acc(&f) - acc(&q)).abs() <= 0.5);
}

#[test]
fn same_seed_and_backend_give_identical_weights() {
    let cfg = TrainConfig {
        train_limit: Some(384),
        test_limit: Some(10),
        ..short_config()
    };
    let run = |cfg: &TrainConfig| {
        let (m, _) = train::train(cfg, mnist(), &device(), Verbosity::Quiet).unwrap();
        FlatParams::from_model(&m)
    };
    let a = run(&cfg);
    let b = run(&cfg);
    assert_eq!(a, b, "same seed, same backend: bit-identical");
    let c = run(&TrainConfig {
        seed: cfg.seed + 1,
        ..cfg.clone()
    });
    assert_ne!(a, c, "the seed controls the run");
    let shifted = TrainConfig {
        max_shift: 2,
        ..cfg.clone()
    };
    assert_eq!(run(&shifted), run(&shifted), "augmentation is seeded too");
}

#[test]
fn checkpoint_round_trip_keeps_weights_and_activation() {
    let (model, _) = trained();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lenet.bpk");
    let meta = train::CheckpointMeta {
        config: short_config(),
        history: vec![],
        backend: Backend::Flex,
    };
    train::save_checkpoint(model, &meta, &path).unwrap();
    let (loaded, meta) = train::load_checkpoint(&path, host::model::Act::Tanh, &device()).unwrap();
    assert_eq!(
        FlatParams::from_model(&loaded),
        FlatParams::from_model(model)
    );
    assert_eq!(
        loaded.activation,
        host::model::Act::Relu,
        "activation comes from the metadata"
    );
    assert_eq!(meta.unwrap().config, short_config());
    let err = train::load_checkpoint(
        &dir.path().join("missing.bpk"),
        host::model::Act::Relu,
        &device(),
    );
    assert!(err.is_err());
}
