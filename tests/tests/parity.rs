//! Cross-crate parity on real MNIST: burn vs lenet-core f32, the host quantizer vs the core's
//! reader, float vs int8, and training determinism. Needs the MNIST files (`$MNIST_DIR`).

use std::sync::OnceLock;

use burn::prelude::Device;
use host::data::{self, Mnist};
use host::eval;
use host::export::{AlignedBlob, f32_blob};
use host::int4::Rounding;
use host::model::{FlatParams, LeNet, logits};
use host::quantize::{self, Granularity, Int8Options, Precision, WeightBits};
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
    Backend::Flex.device().expect("flex is always built in")
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
    let q = quantize::quantize(&params, &ranges, dense, None).unwrap();
    let options = Int8Options {
        calibration: 300,
        dense,
        ..Int8Options::default()
    };
    let bytes = quantize::build_blob(&params, Precision::Both, &mnist().train, &options).unwrap();
    let blob = AlignedBlob::new(&bytes);
    let m = Model::parse(blob.bytes()).unwrap();
    let core = m.int8().unwrap();
    // Convolutions always per channel; the dense layers as asked.
    let per_tensor = dense == Granularity::PerTensor;
    assert!(!core.conv1.requant.is_per_tensor() && !core.conv2.requant.is_per_tensor());
    assert_eq!(core.fc1.requant().is_per_tensor(), per_tensor);
    assert_eq!(core.fc2.requant.is_per_tensor(), per_tensor);
    // An int8-only blob with per-tensor dense layers fits in 1,260,000 bytes.
    let int8_only =
        quantize::build_blob(&params, Precision::Int8, &mnist().train, &options).unwrap();
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
            &core.fc1.int8().unwrap().weights[..],
            &core.fc1.bias()[..],
            core.fc1.requant().multipliers(),
            core.fc1.requant().shifts(),
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
    let options = Int8Options {
        calibration: 1000,
        ..Int8Options::default()
    };
    let bytes = quantize::build_blob(&params, Precision::Both, &mnist().train, &options).unwrap();
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

/// The compact blob: fc1 at 4 bits (GPTQ, and to nearest), every other section as in the int8 blob. It is at
/// most 700,000 bytes, parses back with int4 fc1 weights equal to the host's (unpacked nibble by
/// nibble), and on 2,000 test images stays within 0.5 pp of the float model's accuracy with
/// at least 99 % argmax agreement (the eprintln reports both roundings on this short-trained
/// model).
#[test]
fn int4_blob_is_compact_exact_and_accurate() {
    let (model, _) = trained();
    let params = FlatParams::from_model(model);
    let test = mnist().test.take(2000);
    let build = |rounding| {
        let options = Int8Options {
            calibration: 1000,
            fc1_bits: WeightBits::Four,
            rounding,
            ..Int8Options::default()
        };
        quantize::build_blob(&params, Precision::Both, &mnist().train, &options).unwrap()
    };
    let digits = |bytes: &[u8], int8: bool| -> Vec<u8> {
        let blob = AlignedBlob::new(bytes);
        let m = Model::parse(blob.bytes()).unwrap();
        if int8 {
            eval::run_int8(m.int8().unwrap(), &test)
                .iter()
                .map(|a| a.digit)
                .collect()
        } else {
            eval::run_f32(m.f32().unwrap(), &test)
                .iter()
                .map(|a| a.digit)
                .collect()
        }
    };
    let acc = |d: &[u8]| eval::Report::new(d.iter().copied(), &test.labels).accuracy_pct();
    let gptq = build(Rounding::Gptq);
    let float = digits(&gptq, false);
    let int4 = digits(&gptq, true);
    let nearest = digits(&build(Rounding::Nearest), true);
    assert!(
        acc(&nearest) >= acc(&float) - 0.5,
        "int4 nearest {}",
        acc(&nearest)
    );

    // Byte layout: an int8-only compact blob fits the target, and fc1 is int4 in it.
    let options = Int8Options {
        calibration: 1000,
        fc1_bits: WeightBits::Four,
        rounding: Rounding::Gptq,
        ..Int8Options::default()
    };
    let compact = quantize::build_blob(&params, Precision::Int8, &mnist().train, &options).unwrap();
    assert!(compact.len() <= 700_000, "{} bytes", compact.len());
    let blob = AlignedBlob::new(&compact);
    let m = Model::parse(blob.bytes()).unwrap();
    let q = m.int8().unwrap();
    let lenet_core::Fc1::I4(fc1) = &q.fc1 else {
        panic!("fc1 is not int4");
    };
    let ranges = quantize::calibrate(&params, &mnist().train, 1000).unwrap();
    let w4 = host::int4::fc1_int4(&params, &mnist().train, 1000, Rounding::Gptq).unwrap();
    let host_q = quantize::quantize(&params, &ranges, Granularity::PerTensor, Some(w4)).unwrap();
    let rb = lenet_core::blob::i4::row_bytes(lenet_core::shape::FLAT);
    for (o, row) in host_q.layers[2]
        .weights
        .chunks_exact(lenet_core::shape::FLAT)
        .enumerate()
    {
        let packed = &fc1.weights[o * rb..(o + 1) * rb];
        for (i, &v) in row.iter().enumerate() {
            assert_eq!(lenet_core::blob::i4::get(packed, i), v, "fc1[{o}][{i}]");
        }
    }
    assert_eq!(&fc1.bias[..], &host_q.layers[2].bias[..]);
    assert_eq!(fc1.requant.multipliers(), &host_q.layers[2].multiplier[..]);

    let (af, a4, an) = (acc(&float), acc(&int4), acc(&nearest));
    let agree = eval::agreement(&float, &int4);
    eprintln!(
        "2000 test images: f32 {af:.2} %, int4 GPTQ {a4:.2} %, int4 nearest {an:.2} %, GPTQ/f32 agreement {:.2} %; compact blob {} bytes",
        agree * 100.0,
        compact.len()
    );
    assert!(a4 >= af - 0.5, "int4 {a4} vs f32 {af}");
    assert!(agree >= 0.99, "agreement {agree}");
}
