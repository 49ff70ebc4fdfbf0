//! Every kernel against its reference twin, bit for bit.
//!
//! - **Layers**: the portable conv and dense kernels against `lenet_core::reference` on random
//!   inputs and parameters, LeNet's shapes and odd ones.
//! - **Networks** (one harness for every variant, tract-linalg style): `i8_variant_tests!` and
//!   `f32_variant_tests!` expand to the same tests for each implementation of the whole forward
//!   pass: the reference oracle (`reference_i8`/`reference_f32`, built from
//!   `lenet_core::reference`), the portable kernels, the dispatched `forward`, the packed models
//!   and, on x86-64, each SIMD family forced on its own (int8 AVX2, int8 AVX-512 VNNI, f32
//!   AVX-512 F, unpacked and packed). Every variant runs the same cases (golden images with their
//!   committed logits, the rounding-tie stress set, random models requantized per channel, per
//!   tensor and mixed, saturating
//!   weights, extreme requantization, f32 special values and tanh) and a proptest over random
//!   models, and must give the reference's logits and every intermediate buffer.
//! - **Requantization lanes** (x86-64): the AVX-512 output stage against scalar `requantize`,
//!   lane for lane.
//!
//! A test that needs an instruction set this CPU lacks passes after printing
//! `skipped: <isa> not available (<test>)` to stderr. `LENET_EXPECT_ISA=avx2,avx512f,avx512vnni`
//! (any comma list of those names) makes those tests fail instead, and
//! `expected_isas_are_available` fails unless the CPU has every listed one: CI sets it to what
//! its machine must run.

mod common;

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use common::Rng;
use lenet_core::aligned::AlignedBytes;
use lenet_core::blob::{Activation, BlobWriter, SectionId};
use lenet_core::golden::Golden;
use lenet_core::kernels::conv::conv2d_relu_pool_i8;
use lenet_core::kernels::dense::dense_i8;
use lenet_core::kernels::{QuantLayer, Requant};
use lenet_core::reference::{conv2d_i8_ref, dense_i8_ref, max_pool2_i8_ref};
use lenet_core::{F32Model, I8Model, Model, ScratchF32, ScratchI8};
use proptest::prelude::*;

struct Params {
    weights: Vec<i8>,
    bias: Vec<i32>,
    /// One per output channel (all equal when `per_tensor`).
    multiplier: Vec<i32>,
    shift: Vec<i32>,
    /// The layer holds one pair for all channels ([`Requant::PerTensor`]).
    per_tensor: bool,
    in_zp: i32,
    out_zp: i32,
}

/// Random layer parameters; bit 1 of `seed` picks per-tensor requantization.
fn params(r: &mut Rng, oc: usize, wn: usize, extreme: bool, seed: u64) -> Params {
    let shift_range = if extreme { (-31, 30) } else { (-14, -6) };
    let per_tensor = seed & 2 != 0;
    let n = if per_tensor { 1 } else { oc };
    let mut p = Params {
        weights: (0..wn).map(|_| r.range(-127, 127) as i8).collect(),
        bias: (0..oc).map(|_| if extreme { r.range(-(1 << 30), 1 << 30) } else { r.range(-20_000, 20_000) } as i32).collect(),
        multiplier: (0..n).map(|_| r.range(1, i32::MAX as i64) as i32).collect(),
        shift: (0..n).map(|_| r.range(shift_range.0, shift_range.1) as i32).collect(),
        per_tensor,
        in_zp: r.range(-128, 127) as i32,
        out_zp: r.range(-128, 127) as i32,
    };
    if per_tensor {
        p.multiplier = vec![p.multiplier[0]; oc];
        p.shift = vec![p.shift[0]; oc];
    }
    p
}

fn layer<'a, const OC: usize, const WN: usize>(
    p: &'a Params,
    relu: bool,
) -> QuantLayer<'a, OC, WN> {
    QuantLayer {
        weights: p.weights.as_slice().try_into().unwrap(),
        bias: p.bias.as_slice().try_into().unwrap(),
        requant: {
            let n = if p.per_tensor { 1 } else { OC };
            Requant::from_rows(&p.multiplier[..n], &p.shift[..n]).unwrap()
        },
        in_zp: p.in_zp,
        out_zp: p.out_zp,
        act_min: if relu { p.out_zp } else { -128 },
        act_max: 127,
    }
}

fn conv_case<
    const IC: usize,
    const OC: usize,
    const H: usize,
    const IN: usize,
    const WN: usize,
    const OUT: usize,
>(
    seed: u64,
    extreme: bool,
) {
    let mut r = Rng(seed | 1);
    let p = params(&mut r, OC, WN, extreme, seed);
    let input: Vec<i8> = (0..IN).map(|_| r.range(-128, 127) as i8).collect();
    let l = layer::<OC, WN>(&p, true);
    let mut fused = [0i8; OUT];
    conv2d_relu_pool_i8::<IC, OC, H, H, IN, WN, OUT>(
        input.as_slice().try_into().unwrap(),
        &l,
        &mut fused,
    );
    let mut full = vec![0i8; OC * H * H];
    conv2d_i8_ref(
        &input,
        IC,
        H,
        H,
        &p.weights,
        &p.bias,
        &p.multiplier,
        &p.shift,
        p.in_zp,
        p.out_zp,
        p.out_zp,
        127,
        &mut full,
    );
    let mut pooled = vec![0i8; OUT];
    max_pool2_i8_ref(&full, OC, H, H, &mut pooled);
    assert_eq!(&fused[..], &pooled[..], "seed {seed}");
}

fn dense_case<const IN: usize, const OUT: usize, const WN: usize>(
    seed: u64,
    relu: bool,
    extreme: bool,
) {
    let mut r = Rng(seed | 1);
    let p = params(&mut r, OUT, WN, extreme, seed);
    let input: Vec<i8> = (0..IN).map(|_| r.range(-128, 127) as i8).collect();
    let l = layer::<OUT, WN>(&p, relu);
    let mut fast = [0i8; OUT];
    dense_i8::<IN, OUT, WN>(input.as_slice().try_into().unwrap(), &l, &mut fast);
    let mut slow = vec![0i8; OUT];
    dense_i8_ref(
        &input,
        &p.weights,
        &p.bias,
        &p.multiplier,
        &p.shift,
        p.in_zp,
        p.out_zp,
        l.act_min,
        127,
        &mut slow,
    );
    assert_eq!(&fast[..], &slow[..], "seed {seed}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn conv_small_matches_reference(seed in any::<u64>(), extreme in any::<bool>()) {
        conv_case::<3, 4, 6, { 3 * 36 }, { 4 * 3 * 25 }, { 4 * 9 }>(seed, extreme);
    }

    #[test]
    fn conv1_shape_matches_reference(seed in any::<u64>(), extreme in any::<bool>()) {
        conv_case::<1, 20, 28, 784, 500, 3920>(seed, extreme);
    }

    #[test]
    fn dense_matches_reference(seed in any::<u64>(), relu in any::<bool>(), extreme in any::<bool>()) {
        dense_case::<37, 5, { 37 * 5 }>(seed, relu, extreme);
        dense_case::<500, 10, 5000>(seed, relu, extreme);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]

    #[test]
    fn conv2_shape_matches_reference(seed in any::<u64>(), extreme in any::<bool>()) {
        conv_case::<20, 50, 14, 3920, 25000, 2450>(seed, extreme);
    }

    #[test]
    fn fc1_shape_matches_reference(seed in any::<u64>()) {
        dense_case::<2450, 500, 1_225_000>(seed, true, false);
    }
}

fn f32_vec(r: &mut Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| r.f32(scale)).collect()
}

fn conv_f32_case<
    const IC: usize,
    const OC: usize,
    const H: usize,
    const IN: usize,
    const WN: usize,
    const OUT: usize,
>(
    seed: u64,
    act: lenet_core::blob::Activation,
) {
    use lenet_core::kernels::conv::conv2d_act_pool_f32;
    use lenet_core::reference::{conv2d_f32_ref, max_pool2_f32_ref};
    let mut r = Rng(seed | 1);
    let input = f32_vec(&mut r, IN, 1.0);
    let weights = f32_vec(&mut r, WN, 0.3);
    let bias = f32_vec(&mut r, OC, 0.5);
    let mut fused = [0f32; OUT];
    conv2d_act_pool_f32::<IC, OC, H, H, IN, WN, OUT>(
        input.as_slice().try_into().unwrap(),
        weights.as_slice().try_into().unwrap(),
        bias.as_slice().try_into().unwrap(),
        act,
        &mut fused,
    );
    let mut full = vec![0f32; OC * H * H];
    conv2d_f32_ref(&input, IC, H, H, &weights, &bias, act, &mut full);
    let mut pooled = vec![0f32; OUT];
    max_pool2_f32_ref(&full, OC, H, H, &mut pooled);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&fused), bits(&pooled), "seed {seed}");
}

fn dense_f32_case<const IN: usize, const OUT: usize, const WN: usize>(
    seed: u64,
    act: Option<lenet_core::blob::Activation>,
) {
    use lenet_core::kernels::dense::dense_f32;
    use lenet_core::reference::dense_f32_ref;
    let mut r = Rng(seed | 1);
    let input = f32_vec(&mut r, IN, 1.0);
    let weights = f32_vec(&mut r, WN, 0.1);
    let bias = f32_vec(&mut r, OUT, 0.5);
    let mut fast = [0f32; OUT];
    dense_f32::<IN, OUT, WN>(
        input.as_slice().try_into().unwrap(),
        weights.as_slice().try_into().unwrap(),
        bias.as_slice().try_into().unwrap(),
        act,
        &mut fast,
    );
    let mut slow = vec![0f32; OUT];
    dense_f32_ref(&input, &weights, &bias, act, &mut slow);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&fast), bits(&slow), "seed {seed}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// The f32 kernels keep the documented summation order: bit-identical to the reference.
    #[test]
    fn conv_f32_matches_reference_bit_for_bit(seed in any::<u64>(), tanh in any::<bool>()) {
        use lenet_core::blob::Activation;
        let act = if tanh { Activation::Tanh } else { Activation::Relu };
        conv_f32_case::<3, 4, 6, { 3 * 36 }, { 4 * 3 * 25 }, { 4 * 9 }>(seed, act);
        conv_f32_case::<1, 20, 28, 784, 500, 3920>(seed, act);
        conv_f32_case::<20, 50, 14, 3920, 25000, 2450>(seed, act);
    }

    #[test]
    fn dense_f32_matches_reference_bit_for_bit(seed in any::<u64>()) {
        use lenet_core::blob::Activation;
        dense_f32_case::<37, 7, { 37 * 7 }>(seed, Some(Activation::Relu));
        dense_f32_case::<2450, 500, 1_225_000>(seed, Some(Activation::Tanh));
        dense_f32_case::<500, 10, 5000>(seed, None);
    }
}

/// The documented semantics of the DSP helpers, written independently of their portable twins:
/// lanes as explicit i16 values, sums in i64.
mod dsp_semantics {
    pub fn lanes(p: u32) -> [i64; 2] {
        [
            i64::from(p as u16 as i16),
            i64::from((p >> 16) as u16 as i16),
        ]
    }
    pub fn sbytes(x: u32) -> [i64; 4] {
        x.to_le_bytes().map(|b| i64::from(b as i8))
    }
    pub fn pair(lo: i64, hi: i64) -> u32 {
        (lo.rem_euclid(1 << 16) as u32) | ((hi.rem_euclid(1 << 16) as u32) << 16)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn dsp_helpers_match_their_documented_semantics(x in any::<u32>(), y in any::<u32>(), acc in any::<i32>()) {
        use dsp_semantics::{lanes, pair, sbytes};
        use lenet_core::kernels::dsp::{self, portable};
        let [xl, xh] = lanes(x);
        let [yl, yh] = lanes(y);
        let want = (i64::from(acc) + xl * yl + xh * yh).rem_euclid(1 << 32) as u32 as i32;
        prop_assert_eq!(portable::smlad(x, y, acc), want);
        let b = sbytes(y);
        prop_assert_eq!(portable::sxtb16(y), pair(b[0], b[2]));
        prop_assert_eq!(portable::sxtb16_ror8(y), pair(b[1], b[3]));
        prop_assert_eq!(portable::sxtab16(x, y), pair(xl + b[0], xh + b[2]));
        prop_assert_eq!(portable::sxtab16_ror8(x, y), pair(xl + b[1], xh + b[3]));
        // The selected implementation (the portable twin on hosts) agrees.
        prop_assert_eq!(dsp::smlad(x, y, acc), want);
        prop_assert_eq!(dsp::sxtab16(x, y), portable::sxtab16(x, y));
        let zp = (acc % 256).clamp(-128, 127);
        prop_assert_eq!(dsp::splat16(-zp), pair(-i64::from(zp), -i64::from(zp)));
        prop_assert_eq!(dsp::load_u8x4(&y.to_le_bytes()), y);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn odd_shapes_match_reference(seed in any::<u64>(), relu in any::<bool>()) {
        // Odd channel counts and input lengths exercise the overlapping last blocks and the
        // zero-padded tail word.
        conv_case::<1, 3, 4, 16, 75, 12>(seed, true);
        dense_case::<3, 4, 12>(seed, relu, false);
        dense_case::<6, 7, 42>(seed, relu, true);
    }
}

// ---------------------------------------------------------------------------------------------
// Instruction sets: what this CPU has, and what CI expects it to have.

/// The instruction sets variants may need, as `LENET_EXPECT_ISA` names them.
const ISAS: [&str; 3] = ["avx2", "avx512f", "avx512vnni"];

/// Whether this CPU has `isa` (`None`: not a name of [`ISAS`]). `avx512vnni` stands for what
/// the int8 AVX-512 kernels need (AVX-512 F, BW and VNNI).
fn isa_available(isa: &str) -> Option<bool> {
    if !ISAS.contains(&isa) {
        return None;
    }
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        use lenet_core::kernels::x86;
        Some(match isa {
            "avx2" => x86::avx2_available(),
            "avx512f" => x86::f32_available(),
            _ => x86::int8_available(),
        })
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    Some(false)
}

/// The instruction sets `LENET_EXPECT_ISA` lists (comma separated, case and spaces ignored).
fn expected_isas() -> Vec<String> {
    std::env::var("LENET_EXPECT_ISA")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether a test that needs `isa` can run here. When it cannot, prints
/// `skipped: <isa> not available (<test>)` straight to stderr (not through the test harness's
/// capture, so that it shows in a plain `cargo test`), or fails if `LENET_EXPECT_ISA` lists
/// `isa`.
fn isa_gate(isa: &str, test: &str) -> bool {
    let have = isa_available(isa).unwrap_or_else(|| panic!("unknown instruction set {isa:?}"));
    if have {
        return true;
    }
    assert!(
        !expected_isas().iter().any(|e| e == isa),
        "{test}: LENET_EXPECT_ISA lists {isa}, which this CPU does not have"
    );
    let _ = writeln!(std::io::stderr(), "skipped: {isa} not available ({test})");
    false
}

#[test]
fn expected_isas_are_available() {
    let found: Vec<String> = ISAS
        .iter()
        .map(|i| {
            format!(
                "{i}: {}",
                if isa_available(i) == Some(true) {
                    "yes"
                } else {
                    "no"
                }
            )
        })
        .collect();
    let _ = writeln!(
        std::io::stderr(),
        "instruction sets on this CPU: {}; LENET_EXPECT_ISA = {:?}",
        found.join(", "),
        expected_isas()
    );
    for e in expected_isas() {
        match isa_available(&e) {
            None => panic!("LENET_EXPECT_ISA: unknown instruction set {e:?} (known: {ISAS:?})"),
            Some(false) => panic!("LENET_EXPECT_ISA lists {e}, which this CPU does not have"),
            Some(true) => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Network cases: blobs and images, the same for every variant.

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn random_pixels(r: &mut Rng) -> [u8; 784] {
    core::array::from_fn(|_| r.range(0, 255) as u8)
}

/// Which of a layer's requantization sections hold one pair (per tensor).
#[derive(Clone, Copy, Debug)]
enum RequantShape {
    /// Every layer per channel.
    PerChannel,
    /// Every layer per tensor.
    PerTensor,
    /// Convolutions per channel, dense layers per tensor (the committed model's layout).
    DensePerTensor,
}

/// The value ranges of a random int8 model.
#[derive(Clone, Copy, Debug)]
enum Values {
    /// Plausible: small biases, multipliers in `[0.5, 1)`, shifts `-14..=-9`.
    Moderate,
    /// Anything a blob may hold: biases up to `2^30`, multipliers `1..=2^31 − 1`, every shift.
    Extreme,
    /// Every weight `w`, zero bias, multiplier `2^31 − 1`, shift 30: outputs saturate.
    Saturating(i8),
}

const INT8_LAYERS: [[SectionId; 3]; 4] = {
    use SectionId as S;
    [
        [S::Conv1WeightQ, S::Conv1BiasQ, S::Conv1Requant],
        [S::Conv2WeightQ, S::Conv2BiasQ, S::Conv2Requant],
        [S::Fc1WeightQ, S::Fc1BiasQ, S::Fc1Requant],
        [S::Fc2WeightQ, S::Fc2BiasQ, S::Fc2Requant],
    ]
};

/// An int8-only blob of random parameters (deterministic in `seed`).
fn int8_blob(seed: u64, shape: RequantShape, values: Values) -> Vec<u8> {
    let mut r = Rng(seed | 1);
    let mut w = BlobWriter::new(Activation::Relu);
    for (i, [wi, bi, ri]) in INT8_LAYERS.into_iter().enumerate() {
        let weights: Vec<i8> = match values {
            Values::Saturating(v) => vec![v; wi.elements()],
            _ => (0..wi.elements())
                .map(|_| r.range(-127, 127) as i8)
                .collect(),
        };
        w.add_i8(wi, &weights).unwrap();
        let bias_max = match values {
            Values::Moderate => 5000,
            Values::Extreme => 1 << 30,
            Values::Saturating(_) => 0,
        };
        let bias: Vec<i32> = (0..bi.elements())
            .map(|_| r.range(-bias_max, bias_max) as i32)
            .collect();
        w.add_i32(bi, &bias).unwrap();
        let per_tensor = match shape {
            RequantShape::PerChannel => false,
            RequantShape::PerTensor => true,
            RequantShape::DensePerTensor => i >= 2,
        };
        let n = if per_tensor { 1 } else { bi.elements() };
        let (m_lo, s_lo, s_hi) = match values {
            Values::Moderate => (1 << 30, -14, -9),
            Values::Extreme => (1, -31, 30),
            Values::Saturating(_) => (i32::MAX as i64, 30, 30),
        };
        let mut rq: Vec<i32> = (0..n)
            .map(|_| r.range(m_lo, i32::MAX as i64) as i32)
            .collect();
        rq.extend((0..n).map(|_| r.range(s_lo, s_hi) as i32));
        w.add_i32(ri, &rq).unwrap();
    }
    let zp: Vec<i32> = match values {
        Values::Saturating(_) => vec![-128, -128, 127, -128, 0],
        _ => std::iter::once(-128)
            .chain((0..4).map(|_| r.range(-128, 127) as i32))
            .collect(),
    };
    w.add_i32(SectionId::ZeroPoints, &zp).unwrap();
    w.add_f32(SectionId::Scales, &[1.0 / 255.0, 0.02, 0.03, 0.04, 0.1])
        .unwrap();
    w.finish().unwrap()
}

/// One int8 case: models (blob bytes) with the images each runs, and optionally the committed
/// logits of every image.
struct I8Case {
    models: Vec<(Vec<u8>, Vec<[u8; 784]>)>,
    golden: Option<Vec<[i8; 10]>>,
}

/// The int8 cases every variant runs, by name.
fn i8_case(name: &str) -> I8Case {
    let two_images = |seed: u64| {
        let mut r = Rng(seed ^ 0x5eed);
        vec![random_pixels(&mut r), random_pixels(&mut r)]
    };
    let models = |shape: RequantShape, values: Values| {
        (1..=4u64)
            .map(|seed| (int8_blob(seed, shape, values), two_images(seed)))
            .collect()
    };
    match name {
        "golden" => {
            let bytes = fixture("golden.bin");
            let golden = Golden::parse(&bytes).expect("whole records");
            I8Case {
                models: vec![(
                    fixture("lenet-int8.blob"),
                    golden.records().map(|r| *r.image()).collect(),
                )],
                golden: Some(golden.records().map(|r| r.logits()).collect()),
            }
        }
        "tie_stress" => {
            // The rounding-tie stress set (docs/quantization.md, section 6).
            let bytes = fixture("golden-tie-stress.bin");
            let golden = Golden::parse(&bytes).expect("whole records");
            I8Case {
                models: vec![(
                    fixture("tie-stress.blob"),
                    golden.records().map(|r| *r.image()).collect(),
                )],
                golden: Some(golden.records().map(|r| r.logits()).collect()),
            }
        }
        "committed_blob_random_images" => {
            let mut r = Rng(7);
            let mut images: Vec<[u8; 784]> = (0..20).map(|_| random_pixels(&mut r)).collect();
            images.extend([0u8, 1, 127, 128, 254, 255].map(|p| [p; 784]));
            I8Case {
                models: vec![(fixture("lenet-int8.blob"), images)],
                golden: None,
            }
        }
        "per_channel" => I8Case {
            models: models(RequantShape::PerChannel, Values::Moderate),
            golden: None,
        },
        "per_tensor" => I8Case {
            models: models(RequantShape::PerTensor, Values::Moderate),
            golden: None,
        },
        "dense_per_tensor" => I8Case {
            models: models(RequantShape::DensePerTensor, Values::Moderate),
            golden: None,
        },
        "extreme_requant" => I8Case {
            models: [RequantShape::PerChannel, RequantShape::PerTensor]
                .into_iter()
                .flat_map(|shape| {
                    (1..=2u64).map(move |seed| {
                        (int8_blob(seed, shape, Values::Extreme), two_images(seed))
                    })
                })
                .collect(),
            golden: None,
        },
        "saturating_weights" => I8Case {
            models: [127i8, -127]
                .into_iter()
                .map(|v| {
                    let blob = int8_blob(5, RequantShape::PerChannel, Values::Saturating(v));
                    (blob, [0u8, 1, 200, 255].map(|p| [p; 784]).to_vec())
                })
                .collect(),
            golden: None,
        },
        _ => panic!("no int8 case {name:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// int8 variants.

/// What an int8 forward pass leaves behind: the logits and every buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct I8Run {
    logits: [i8; 10],
    pool1: Vec<i8>,
    pool2: Vec<i8>,
    fc1: Vec<i8>,
}

impl I8Run {
    fn of(logits: [i8; 10], s: &ScratchI8) -> Self {
        Self {
            logits,
            pool1: s.pool1().to_vec(),
            pool2: s.pool2().to_vec(),
            fc1: s.fc1().to_vec(),
        }
    }
}

/// Runs an int8 variant on each image of one model.
type I8Runner = fn(&I8Model<'_>, &[[u8; 784]]) -> Option<Vec<I8Run>>;

/// One implementation of the int8 network.
struct I8Variant {
    name: &'static str,
    /// The instruction set it needs (an [`ISAS`] name), if any.
    isa: Option<&'static str>,
    /// Runs it on each image; `None` when it does not apply to the model (outside the x86 fast
    /// paths' preconditions, which no parsed blob is).
    run: I8Runner,
}

/// The oracle: unfused `lenet_core::reference` layers straight from `docs/quantization.md`.
fn reference_i8(m: &I8Model<'_>, pixels: &[u8; 784]) -> I8Run {
    let run = lenet_core::reference::forward_i8_ref(m, pixels);
    I8Run {
        logits: run.logits,
        pool1: run.pool1.to_vec(),
        pool2: run.pool2.to_vec(),
        fc1: run.fc1.to_vec(),
    }
}

/// Runs `f` on each image with a fresh scratch.
fn each_i8(
    images: &[[u8; 784]],
    mut f: impl FnMut(&[u8; 784], &mut ScratchI8) -> Option<[i8; 10]>,
) -> Option<Vec<I8Run>> {
    images
        .iter()
        .map(|p| {
            let mut s = ScratchI8::new();
            f(p, &mut s).map(|logits| I8Run::of(logits, &s))
        })
        .collect()
}

const I8_REFERENCE: I8Variant = I8Variant {
    name: "reference",
    isa: None,
    run: |m, images| Some(images.iter().map(|p| reference_i8(m, p)).collect()),
};

const I8_PORTABLE: I8Variant = I8Variant {
    name: "portable",
    isa: None,
    run: |m, images| each_i8(images, |p, s| Some(m.forward_portable(p, s))),
};

const I8_FORWARD: I8Variant = I8Variant {
    name: "forward",
    isa: None,
    run: |m, images| each_i8(images, |p, s| Some(m.forward(p, s))),
};

#[cfg(all(target_arch = "x86_64", not(miri)))]
const I8_PACKED: I8Variant = I8Variant {
    name: "packed",
    isa: None,
    run: |m, images| {
        let packed = lenet_core::model::PackedI8::new(m);
        each_i8(images, |p, s| Some(packed.forward(p, s)))
    },
};

#[cfg(all(target_arch = "x86_64", not(miri)))]
fn run_i8_isa(
    isa: lenet_core::kernels::x86::I8Isa,
    m: &I8Model<'_>,
    images: &[[u8; 784]],
) -> Option<Vec<I8Run>> {
    let layers = m.x86_layers().expect("int8 fc1");
    each_i8(images, |p, s| {
        lenet_core::kernels::x86::forward_i8_isa(isa, &layers, p, s.x86_buffers())
    })
}

#[cfg(all(target_arch = "x86_64", not(miri)))]
const I8_AVX2: I8Variant = I8Variant {
    name: "avx2",
    isa: Some("avx2"),
    run: |m, images| run_i8_isa(lenet_core::kernels::x86::I8Isa::Avx2, m, images),
};

#[cfg(all(target_arch = "x86_64", not(miri)))]
const I8_AVX512VNNI: I8Variant = I8Variant {
    name: "avx512vnni",
    isa: Some("avx512vnni"),
    run: |m, images| run_i8_isa(lenet_core::kernels::x86::I8Isa::Avx512Vnni, m, images),
};

/// The first index where `got` and `want` differ, with the count of differences.
fn assert_same<T: PartialEq + std::fmt::Debug>(what: &str, got: &[T], want: &[T]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let diffs: Vec<usize> = (0..got.len()).filter(|&i| got[i] != want[i]).collect();
    if let Some(&i) = diffs.first() {
        panic!(
            "{what}: {} of {} values differ, first at {i}: {:?} instead of {:?}",
            diffs.len(),
            got.len(),
            got[i],
            want[i]
        );
    }
}

fn assert_same_i8(what: &str, got: &I8Run, want: &I8Run) {
    assert_same(&format!("{what}: logits"), &got.logits, &want.logits);
    assert_same(&format!("{what}: pool1"), &got.pool1, &want.pool1);
    assert_same(&format!("{what}: pool2"), &got.pool2, &want.pool2);
    assert_same(&format!("{what}: fc1"), &got.fc1, &want.fc1);
}

/// The reference outputs of a case, computed once per test process (the cases are
/// deterministic and the oracle is slow).
fn cached<T: Send + Sync + 'static>(key: &str, compute: impl FnOnce() -> T) -> Arc<T> {
    type Cells = Mutex<HashMap<String, Arc<dyn std::any::Any + Send + Sync>>>;
    static CELLS: OnceLock<Cells> = OnceLock::new();
    let cell = CELLS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(key.to_string())
        .or_insert_with(|| {
            Arc::new(OnceLock::<Arc<T>>::new()) as Arc<dyn std::any::Any + Send + Sync>
        })
        .clone();
    let cell = cell
        .downcast_ref::<OnceLock<Arc<T>>>()
        .expect("one type per key");
    cell.get_or_init(|| Arc::new(compute())).clone()
}

/// Runs `v` on every model and image of int8 case `case` and compares with the reference (and
/// the committed logits).
fn check_i8_case(v: &I8Variant, case: &str) {
    let test = format!("int8 {} / {case}", v.name);
    if v.isa.is_some_and(|isa| !isa_gate(isa, &test)) {
        return;
    }
    let c = i8_case(case);
    let want = cached(&format!("i8/{case}"), || {
        c.models
            .iter()
            .map(|(blob, images)| {
                let blob = AlignedBytes::new(blob);
                let model = Model::parse(blob.bytes()).unwrap();
                (I8_REFERENCE.run)(model.int8().unwrap(), images).unwrap()
            })
            .collect::<Vec<_>>()
    });
    let mut k = 0;
    for (mi, ((blob, images), want)) in c.models.iter().zip(want.iter()).enumerate() {
        let blob = AlignedBytes::new(blob);
        let model = Model::parse(blob.bytes()).unwrap();
        let got = (v.run)(model.int8().unwrap(), images)
            .unwrap_or_else(|| panic!("{test}: did not run on model {mi}"));
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_same_i8(&format!("{test}, model {mi}, image {i}"), g, w);
            if let Some(golden) = &c.golden {
                assert_eq!(
                    g.logits, golden[k],
                    "{test}: committed logits of record {k}"
                );
            }
            k += 1;
        }
    }
}

/// A random model (per-channel, per-tensor or mixed requantization, moderate or extreme values
/// by the bits of `seed`) on a random image, against the reference.
fn check_i8_random(v: &I8Variant, seed: u64, img: u64) {
    let test = format!("int8 {} / random model {seed:#x}", v.name);
    if v.isa.is_some_and(|isa| !isa_gate(isa, &test)) {
        return;
    }
    let shape = [
        RequantShape::PerChannel,
        RequantShape::PerTensor,
        RequantShape::DensePerTensor,
    ][(seed % 3) as usize];
    let values = if seed & 8 == 0 {
        Values::Moderate
    } else {
        Values::Extreme
    };
    let blob = AlignedBytes::new(&int8_blob(seed, shape, values));
    let model = Model::parse(blob.bytes()).unwrap();
    let m = model.int8().unwrap();
    let images = [random_pixels(&mut Rng(img | 1))];
    let want = reference_i8(m, &images[0]);
    let got = (v.run)(m, &images).unwrap_or_else(|| panic!("{test}: did not run"));
    assert_same_i8(&test, &got[0], &want);
}

/// The same tests for int8 variant `$v`, in module `$name`.
macro_rules! i8_variant_tests {
    ($name:ident, $v:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn golden() {
                check_i8_case(&$v, "golden");
            }

            #[test]
            fn tie_stress() {
                check_i8_case(&$v, "tie_stress");
            }

            #[test]
            fn committed_blob_random_images() {
                check_i8_case(&$v, "committed_blob_random_images");
            }

            #[test]
            fn per_channel() {
                check_i8_case(&$v, "per_channel");
            }

            #[test]
            fn per_tensor() {
                check_i8_case(&$v, "per_tensor");
            }

            #[test]
            fn dense_per_tensor() {
                check_i8_case(&$v, "dense_per_tensor");
            }

            #[test]
            fn extreme_requant() {
                check_i8_case(&$v, "extreme_requant");
            }

            #[test]
            fn saturating_weights() {
                check_i8_case(&$v, "saturating_weights");
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(6))]

                #[test]
                fn random_models(seed in any::<u64>(), img in any::<u64>()) {
                    check_i8_random(&$v, seed, img);
                }
            }
        }
    };
}

i8_variant_tests!(i8_reference, I8_REFERENCE);
i8_variant_tests!(i8_portable, I8_PORTABLE);
i8_variant_tests!(i8_forward, I8_FORWARD);
#[cfg(all(target_arch = "x86_64", not(miri)))]
i8_variant_tests!(i8_packed, I8_PACKED);
#[cfg(all(target_arch = "x86_64", not(miri)))]
i8_variant_tests!(i8_avx2, I8_AVX2);
#[cfg(all(target_arch = "x86_64", not(miri)))]
i8_variant_tests!(i8_avx512vnni, I8_AVX512VNNI);

// ---------------------------------------------------------------------------------------------
// f32 cases and variants.

/// One f32 case: models (blob bytes, and whether to run it as a tanh model) with their inputs.
/// The x86 fast paths apply to ReLU models only.
struct F32Case {
    models: Vec<(Vec<u8>, Vec<[f32; 784]>)>,
    tanh: bool,
}

/// The f32 cases every variant runs, by name.
fn f32_case(name: &str) -> F32Case {
    let inputs = |seed: u64, n: usize| -> Vec<[f32; 784]> {
        let mut r = Rng(seed ^ 0xf32);
        (0..n)
            .map(|_| lenet_core::pixels_to_f32(&random_pixels(&mut r)))
            .collect()
    };
    let special = |seed: u64, pick: fn(usize) -> Option<f32>| {
        let mut r = Rng(seed);
        let mut w = BlobWriter::new(Activation::Relu);
        for &s in &SectionId::F32_SET {
            let data: Vec<f32> = (0..s.elements())
                .map(|i| pick(i).unwrap_or_else(|| r.f32(0.5)))
                .collect();
            w.add_f32(s, &data).unwrap();
        }
        w.finish().unwrap()
    };
    match name {
        "golden_images" => F32Case {
            models: vec![(
                common::blob(1),
                Golden::parse(&fixture("golden.bin"))
                    .expect("whole records")
                    .records()
                    .map(|r| lenet_core::pixels_to_f32(r.image()))
                    .collect(),
            )],
            tanh: false,
        },
        "random_models" => F32Case {
            models: (2..=5u64)
                .map(|s| (common::blob(s), inputs(s, 2)))
                .collect(),
            tanh: false,
        },
        "special_values" => {
            // Infinite and NaN weights (a zero pad times inf would be NaN: out-of-bounds taps
            // must be skipped, not multiplied), signed zeros, and infinite inputs.
            let blob = special(99, |i| match i % 97 {
                0 => Some(f32::INFINITY),
                1 => Some(f32::NEG_INFINITY),
                2 => Some(-0.0),
                3 => Some(f32::NAN),
                _ => None,
            });
            let mut x = inputs(99, 2);
            x[1][0] = f32::INFINITY;
            x[1][100] = -0.0;
            x[1][400] = f32::NEG_INFINITY;
            F32Case {
                models: vec![(blob, x)],
                tanh: false,
            }
        }
        "saturating_weights" => F32Case {
            // Huge weights: sums overflow to ±inf, and inf − inf gives NaN.
            models: vec![(
                special(3, |i| Some(if i % 3 == 0 { -3e37 } else { 3e37 })),
                inputs(3, 2),
            )],
            tanh: false,
        },
        "tanh" => F32Case {
            models: (6..=7u64)
                .map(|s| (common::blob(s), inputs(s, 2)))
                .collect(),
            tanh: true,
        },
        _ => panic!("no f32 case {name:?}"),
    }
}

/// What an f32 forward pass leaves behind, as bits. NaNs are compared as NaN only: Rust leaves
/// NaN payloads unspecified (LLVM may commute an addition of two NaNs), even within the
/// portable kernels.
#[derive(Debug, Clone, PartialEq, Eq)]
struct F32Run {
    logits: Vec<u32>,
    pool1: Vec<u32>,
    pool2: Vec<u32>,
    fc1: Vec<u32>,
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter()
        .map(|x| if x.is_nan() { 0x7fc0_0000 } else { x.to_bits() })
        .collect()
}

impl F32Run {
    fn new(logits: &[f32], pool1: &[f32], pool2: &[f32], fc1: &[f32]) -> Self {
        Self {
            logits: bits(logits),
            pool1: bits(pool1),
            pool2: bits(pool2),
            fc1: bits(fc1),
        }
    }

    fn of(logits: [f32; 10], s: &ScratchF32) -> Self {
        Self::new(&logits, s.pool1(), s.pool2(), s.fc1())
    }
}

/// Runs an f32 variant on each input of one model.
type F32Runner = fn(&F32Model<'_>, &[[f32; 784]]) -> Option<Vec<F32Run>>;

/// One implementation of the f32 network.
struct F32Variant {
    name: &'static str,
    /// The instruction set it needs (an [`ISAS`] name), if any.
    isa: Option<&'static str>,
    /// Runs it on each input; `None` when it does not apply to the model (x86 fast paths: tanh).
    run: F32Runner,
}

/// The oracle: unfused `lenet_core::reference` layers.
fn reference_f32(m: &F32Model<'_>, x: &[f32; 784]) -> F32Run {
    use lenet_core::reference::{conv2d_f32_ref, dense_f32_ref, max_pool2_f32_ref};
    let act = m.activation;
    let conv_pool = |x: &[f32], ic: usize, side: usize, w: &[f32], b: &[f32]| {
        let oc = b.len();
        let mut full = vec![0f32; oc * side * side];
        conv2d_f32_ref(x, ic, side, side, w, b, act, &mut full);
        let mut pooled = vec![0f32; oc * side * side / 4];
        max_pool2_f32_ref(&full, oc, side, side, &mut pooled);
        pooled
    };
    let pool1 = conv_pool(x, 1, 28, m.conv1_w, m.conv1_b);
    let pool2 = conv_pool(&pool1, 20, 14, m.conv2_w, m.conv2_b);
    let mut fc1 = vec![0f32; 500];
    dense_f32_ref(&pool2, m.fc1_w, m.fc1_b, Some(act), &mut fc1);
    let mut logits = vec![0f32; 10];
    dense_f32_ref(&fc1, m.fc2_w, m.fc2_b, None, &mut logits);
    F32Run::new(&logits, &pool1, &pool2, &fc1)
}

/// Runs `f` on each input with a fresh scratch.
fn each_f32(
    inputs: &[[f32; 784]],
    mut f: impl FnMut(&[f32; 784], &mut ScratchF32) -> Option<[f32; 10]>,
) -> Option<Vec<F32Run>> {
    inputs
        .iter()
        .map(|x| {
            let mut s = ScratchF32::new();
            f(x, &mut s).map(|logits| F32Run::of(logits, &s))
        })
        .collect()
}

const F32_REFERENCE: F32Variant = F32Variant {
    name: "reference",
    isa: None,
    run: |m, inputs| Some(inputs.iter().map(|x| reference_f32(m, x)).collect()),
};

const F32_PORTABLE: F32Variant = F32Variant {
    name: "portable",
    isa: None,
    run: |m, inputs| each_f32(inputs, |x, s| Some(m.forward_portable(x, s))),
};

const F32_FORWARD: F32Variant = F32Variant {
    name: "forward",
    isa: None,
    run: |m, inputs| each_f32(inputs, |x, s| Some(m.forward(x, s))),
};

/// `F32Model::forward_batch` (AVX-512 F where the CPU has it, the portable pass elsewhere) on
/// the inputs repeated to at least `TILE + 1` images, so that every input of a case runs in a
/// tile of 8 images and the tail runs as well; the first `n` results are checked. The batch
/// keeps only its last image's `pool1` (the convolutions are `forward`'s), so `pool1` is left
/// out of the comparison.
const F32_BATCH: F32Variant = F32Variant {
    name: "batch",
    isa: None,
    run: |m, inputs| {
        let xs: Vec<[f32; 784]> = inputs
            .iter()
            .cycle()
            .take(inputs.len().max(9))
            .copied()
            .collect();
        let mut s = lenet_core::ScratchF32Batch::boxed();
        let mut logits = vec![[0f32; 10]; xs.len()];
        m.forward_batch(&xs, &mut s, &mut logits);
        assert!(
            xs.len() <= lenet_core::shape::F32_BATCH,
            "one group: the scratch holds them all"
        );
        Some(
            (0..inputs.len())
                .map(|i| F32Run::new(&logits[i], &[], s.pool2(i), s.fc1(i)))
                .collect(),
        )
    },
};

#[cfg(all(target_arch = "x86_64", not(miri)))]
const F32_AVX512F: F32Variant = F32Variant {
    name: "avx512f",
    isa: Some("avx512f"),
    run: |m, inputs| {
        let layers = m.x86_layers();
        each_f32(inputs, |x, s| {
            lenet_core::kernels::x86::forward_f32(&layers, x, s.x86_buffers())
        })
    },
};

fn assert_same_f32(what: &str, got: &F32Run, want: &F32Run) {
    assert_same(&format!("{what}: logits"), &got.logits, &want.logits);
    if !got.pool1.is_empty() {
        assert_same(&format!("{what}: pool1"), &got.pool1, &want.pool1);
    }
    assert_same(&format!("{what}: pool2"), &got.pool2, &want.pool2);
    assert_same(&format!("{what}: fc1"), &got.fc1, &want.fc1);
}

/// Parses `blob` and runs `f` on its f32 model (as a tanh model if `tanh`).
fn with_f32<T>(blob: &[u8], tanh: bool, f: impl FnOnce(&F32Model<'_>) -> T) -> T {
    let blob = AlignedBytes::new(blob);
    let model = Model::parse(blob.bytes()).unwrap();
    let mut m = *model.f32().unwrap();
    if tanh {
        m.activation = Activation::Tanh;
    }
    f(&m)
}

/// Runs `v` on every model and input of f32 case `case` and compares with the reference. A
/// variant that needs an instruction set must run on ReLU models and decline tanh ones.
fn check_f32_case(v: &F32Variant, case: &str) {
    let test = format!("f32 {} / {case}", v.name);
    if v.isa.is_some_and(|isa| !isa_gate(isa, &test)) {
        return;
    }
    let c = f32_case(case);
    let want = cached(&format!("f32/{case}"), || {
        c.models
            .iter()
            .map(|(blob, x)| with_f32(blob, c.tanh, |m| (F32_REFERENCE.run)(m, x).unwrap()))
            .collect::<Vec<_>>()
    });
    for (mi, ((blob, x), want)) in c.models.iter().zip(want.iter()).enumerate() {
        let Some(got) = with_f32(blob, c.tanh, |m| (v.run)(m, x)) else {
            assert!(
                c.tanh && v.isa.is_some(),
                "{test}: did not run on model {mi}"
            );
            continue;
        };
        assert!(!(c.tanh && v.isa.is_some()), "{test}: ran a tanh model");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_same_f32(&format!("{test}, model {mi}, input {i}"), g, w);
        }
    }
}

/// A random ReLU model on a random input, against the reference.
fn check_f32_random(v: &F32Variant, seed: u64, img: u64) {
    let test = format!("f32 {} / random model {seed:#x}", v.name);
    if v.isa.is_some_and(|isa| !isa_gate(isa, &test)) {
        return;
    }
    let x = [lenet_core::pixels_to_f32(&random_pixels(&mut Rng(img | 1)))];
    with_f32(&common::blob(seed), false, |m| {
        let got = (v.run)(m, &x).unwrap_or_else(|| panic!("{test}: did not run"));
        assert_same_f32(&test, &got[0], &reference_f32(m, &x[0]));
    });
}

/// The same tests for f32 variant `$v`, in module `$name`.
macro_rules! f32_variant_tests {
    ($name:ident, $v:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn golden_images() {
                check_f32_case(&$v, "golden_images");
            }

            #[test]
            fn random_models() {
                check_f32_case(&$v, "random_models");
            }

            #[test]
            fn special_values() {
                check_f32_case(&$v, "special_values");
            }

            #[test]
            fn saturating_weights() {
                check_f32_case(&$v, "saturating_weights");
            }

            #[test]
            fn tanh() {
                check_f32_case(&$v, "tanh");
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(4))]

                #[test]
                fn random_model_proptest(seed in any::<u64>(), img in any::<u64>()) {
                    check_f32_random(&$v, seed, img);
                }
            }
        }
    };
}

f32_variant_tests!(f32_reference, F32_REFERENCE);
f32_variant_tests!(f32_portable, F32_PORTABLE);
f32_variant_tests!(f32_forward, F32_FORWARD);
f32_variant_tests!(f32_batch, F32_BATCH);

/// Calls of `forward` that share one scratch run fc1's rows in alternating directions (the x86
/// path): every call still gives the portable bits.
#[test]
fn f32_forward_with_one_scratch_for_many_calls_is_exact() {
    with_f32(&common::blob(9), false, |m| {
        let mut r = Rng(9);
        let mut s = ScratchF32::new();
        for i in 0..4 {
            let x = lenet_core::pixels_to_f32(&random_pixels(&mut r));
            let got = F32Run::of(m.forward(&x, &mut s), &s);
            let mut s_ref = ScratchF32::new();
            let want = F32Run::of(m.forward_portable(&x, &mut s_ref), &s_ref);
            assert_same_f32(&format!("call {i}"), &got, &want);
        }
    });
}

/// `forward_batch` over several groups of `F32_BATCH` images, the last one partial: every
/// image's logits are `forward`'s.
#[test]
fn f32_batch_of_several_groups_equals_forward() {
    with_f32(&common::blob(8), false, |m| {
        let mut r = Rng(8);
        let xs: Vec<[f32; 784]> = (0..2 * lenet_core::shape::F32_BATCH + 6)
            .map(|_| lenet_core::pixels_to_f32(&random_pixels(&mut r)))
            .collect();
        let mut logits = vec![[0f32; 10]; xs.len()];
        m.forward_batch(&xs, &mut lenet_core::ScratchF32Batch::boxed(), &mut logits);
        for (i, (x, l)) in xs.iter().zip(&logits).enumerate() {
            let want = m.forward(x, &mut ScratchF32::new());
            assert_same(&format!("image {i}"), &bits(l), &bits(&want));
        }
    });
}
#[cfg(all(target_arch = "x86_64", not(miri)))]
f32_variant_tests!(f32_avx512f, F32_AVX512F);

// ---------------------------------------------------------------------------------------------
// x86-64: the AVX-512 output stage of the VNNI convolutions, lane for lane against the scalar
// `requantize` / `QuantLayer::output` (the AVX2 path and the dense layers call those directly).

#[cfg(all(target_arch = "x86_64", not(miri)))]
mod requant_lanes {
    use super::*;
    use lenet_core::kernels::x86::{output_stage_x16, requantize_x16};
    use lenet_core::kernels::{QuantLayer, Requant};
    use lenet_core::quant::{SHIFT_MAX, SHIFT_MIN, requantize};

    /// Whether the proptests below can run (the skip is printed once).
    fn avx512f() -> bool {
        static GATE: OnceLock<bool> = OnceLock::new();
        *GATE.get_or_init(|| isa_gate("avx512f", "requant lanes / proptests"))
    }

    /// Every lane of the vector requantization against scalar `requantize`; `false` when the
    /// CPU lacks AVX-512 F.
    fn check(acc: &[i32; 16], multiplier: &[i32; 16], shift: &[i32; 16]) -> bool {
        let Some(got) = requantize_x16(acc, multiplier, shift) else {
            return false;
        };
        for i in 0..16 {
            let want = requantize(acc[i], multiplier[i], shift[i]);
            assert_eq!(
                got[i], want,
                "lane {i}: requantize({}, {}, {})",
                acc[i], multiplier[i], shift[i]
            );
        }
        true
    }

    /// Every lane of the vector output stage of `layer` against `QuantLayer::output`.
    fn check_stage(acc: &[i32; 16], layer: &QuantLayer<'_, 16, 0>) -> bool {
        let Some(got) = output_stage_x16(acc, layer) else {
            return false;
        };
        for i in 0..16 {
            let want = layer.output(i, acc[i] + layer.bias[i]);
            assert!(
                (-128..=127).contains(&got[i]),
                "lane {i}: {} is not an i8",
                got[i]
            );
            assert_eq!(got[i] as i8, want, "lane {i}: acc {} of {layer:?}", acc[i]);
        }
        true
    }

    /// The largest `p` with `a·2^p` inside `i32` (`a != 0`).
    fn max_pow(a: i64) -> i32 {
        let mut p = 0;
        while (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&(a << (p + 1))) {
            p += 1;
        }
        p
    }

    /// `(acc, multiplier) = (a·2^p, m·2^q)` with `p + q = 30 − shift`, if some split fits
    /// `i32`: for odd `a` and `m`, `acc·multiplier·2^(shift − 31) = a·m/2` is then exactly
    /// halfway between two integers.
    fn tie_with(r: &mut Rng, shift: i32, a: i64, m: i64) -> Option<(i32, i32)> {
        let t1 = 30 - shift.clamp(SHIFT_MIN, SHIFT_MAX);
        let (lo, hi) = ((t1 - max_pow(m)).max(0), t1.min(max_pow(a)));
        if m <= 0 || lo > hi {
            return None;
        }
        let p = r.range(i64::from(lo), i64::from(hi)) as i32;
        Some(((a << p) as i32, (m << (t1 - p)) as i32))
    }

    /// A random odd number of magnitude below `2^bits`.
    fn odd(r: &mut Rng, bits: i64) -> i64 {
        let b = r.range(0, bits);
        r.range(-(1 << b), (1 << b) - 1) | 1
    }

    /// An exact tie for `shift` with odd parts of random size.
    fn tie(r: &mut Rng, shift: i32) -> (i32, i32) {
        for _ in 0..16 {
            let (a, m) = (odd(r, 31), odd(r, 31).abs());
            if let Some(t) = tie_with(r, shift, a, m) {
                return t;
            }
        }
        // 30 − shift = 61 needs acc = −2^31.
        tie_with(r, shift, -1, 1).unwrap_or((i32::MIN, 1 << 30))
    }

    /// Whether `acc·multiplier·2^(shift − 31)` has fraction exactly 1/2.
    fn is_tie(acc: i32, multiplier: i32, shift: i32) -> bool {
        let t = 31 - shift.clamp(SHIFT_MIN, SHIFT_MAX);
        (i128::from(acc) * i128::from(multiplier)).rem_euclid(1 << t) == 1 << (t - 1)
    }

    const EDGE_ACC: [i32; 16] = [
        i32::MIN,
        i32::MIN + 1,
        i32::MAX,
        i32::MAX - 1,
        0,
        1,
        -1,
        2,
        -2,
        3,
        -3,
        1 << 30,
        -(1 << 30),
        (1 << 24) - 1,
        -(1 << 24),
        12_345_678,
    ];
    const EDGE_MULT: [i32; 16] = [
        1,
        2,
        3,
        1 << 29,
        (1 << 29) + 1,
        1 << 30,
        (1 << 30) + 1,
        3 << 29,
        i32::MAX,
        i32::MAX - 1,
        0x5555_5555,
        1_518_500_250,
        // Outside the blob contract (multiplier >= 1), where `requantize` is still total.
        0,
        -1,
        i32::MIN,
        i32::MIN + 1,
    ];

    /// Every shift in range, both paths of the scalar function (the 32-bit one for shifts
    /// below −1, i.e. multipliers below 1/4, and the 64-bit one), exact ties of both signs and
    /// their neighbours, and every pairing of the edge accumulators and multipliers; then
    /// shifts outside the range (clamped by both).
    #[test]
    fn requantize_lanes_every_shift_ties_and_edges() {
        if !isa_gate("avx512f", "requant lanes / every shift") {
            return;
        }
        let mut r = Rng(0x71e5);
        let (mut ties, mut fast32, mut wide64) = (0, 0, 0);
        let out_of_range = [i32::MIN, -1000, -33, -32, 31, 32, 1000, i32::MAX];
        for shift in (SHIFT_MIN..=SHIFT_MAX).chain(out_of_range) {
            let sh = [shift; 16];
            for _ in 0..64 {
                let mut acc = [0; 16];
                let mut mult = [0; 16];
                for lane in 0..16 {
                    let (a, m) = tie(&mut r, shift);
                    assert!(
                        is_tie(a, m, shift),
                        "crafted tie {a} x {m} at shift {shift}"
                    );
                    ties += 1;
                    // Lanes 0-7 exact ties (both signs), 8-15 their neighbours.
                    let a = if lane % 2 == 1 {
                        a.wrapping_neg().max(i32::MIN + 1)
                    } else {
                        a
                    };
                    acc[lane] = match lane / 8 {
                        0 => a,
                        _ if lane % 2 == 0 => a.saturating_add(1),
                        _ => a.saturating_sub(1),
                    };
                    mult[lane] = m;
                }
                assert!(check(&acc, &mult, &sh));
            }
            for rot in 0..16 {
                let mult: [i32; 16] = core::array::from_fn(|i| EDGE_MULT[(i + rot) % 16]);
                assert!(check(&EDGE_ACC, &mult, &sh));
            }
            if 31 - shift.clamp(SHIFT_MIN, SHIFT_MAX) > 32 {
                fast32 += 1;
            } else {
                wide64 += 1;
            }
        }
        assert!(
            ties > 0 && fast32 >= 30 && wide64 >= 32,
            "{fast32} / {wide64} shifts"
        );
    }

    /// Per-channel and per-tensor output stages on exact ties whose results are small (so the
    /// rounding, not the clamp, decides them), for every shift, zero point and clamp kind.
    #[test]
    fn output_stage_lanes_round_ties_like_scalar() {
        if !isa_gate("avx512f", "requant lanes / output stage ties") {
            return;
        }
        let mut r = Rng(0x0a75);
        for shift in SHIFT_MIN..=SHIFT_MAX {
            for round in 0..16 {
                // Per tensor: one multiplier m·2^q, each lane's acc a·2^(30 − shift − q).
                let m = r.range(0, 7) * 2 + 1;
                let (_, m_pt) = tie_with(&mut r, shift, 1, m).unwrap_or((0, 1 << 30));
                let q = m_pt.trailing_zeros() as i32;
                let mut acc = [0i32; 16];
                let mut bias = [0i32; 16];
                let mut mult = [0i32; 16];
                for lane in 0..16 {
                    let a = r.range(-15, 15) | 1;
                    let (total, mc) = if round % 2 == 0 {
                        // Per channel: a small tie of its own.
                        let m = r.range(0, 7) * 2 + 1;
                        tie_with(&mut r, shift, a, m).unwrap_or((i32::MIN, 1 << 30))
                    } else {
                        let p = 30 - shift - q;
                        if (0..=max_pow(a)).contains(&p) {
                            ((a << p) as i32, m_pt)
                        } else {
                            (0, m_pt)
                        }
                    };
                    bias[lane] = r.range(-1000, 1000) as i32;
                    acc[lane] = total.saturating_sub(bias[lane]);
                    if acc[lane].checked_add(bias[lane]) != Some(total) {
                        bias[lane] = 0;
                        acc[lane] = total;
                    }
                    mult[lane] = mc;
                }
                let shifts = [shift; 16];
                let requant = if round % 2 == 0 {
                    Requant::PerChannel {
                        multiplier: &mult,
                        shift: &shifts,
                    }
                } else {
                    Requant::PerTensor {
                        multiplier: m_pt,
                        shift,
                    }
                };
                let out_zp = r.range(-128, 127) as i32;
                let relu = round % 4 < 2;
                let layer = QuantLayer::<16, 0> {
                    weights: &[],
                    bias: &bias,
                    requant,
                    in_zp: -128,
                    out_zp,
                    act_min: if relu { out_zp } else { -128 },
                    act_max: 127,
                };
                assert!(check_stage(&acc, &layer));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any accumulators, any multipliers (also outside the blob contract), shifts in range
        /// and a little beyond.
        #[test]
        fn requantize_lanes_match_scalar(
            acc in prop::array::uniform16(any::<i32>()),
            multiplier in prop::array::uniform16(any::<i32>()),
            shift in prop::array::uniform16(-34i32..=33),
        ) {
            if !avx512f() {
                return Ok(());
            }
            check(&acc, &multiplier, &shift);
        }

        /// Accumulators a multiple of a random power of two: ties and near-ties are frequent.
        #[test]
        fn requantize_lanes_match_scalar_near_ties(
            base in prop::array::uniform16(-(1i32 << 15)..(1 << 15)),
            k in prop::array::uniform16(0u32..16),
            nudge in prop::array::uniform16(-1i32..=1),
            multiplier in prop::array::uniform16(prop_oneof![Just(1i32 << 30), 1i32..=i32::MAX]),
            shift in prop::array::uniform16(SHIFT_MIN..=SHIFT_MAX),
        ) {
            if !avx512f() {
                return Ok(());
            }
            let acc: [i32; 16] = core::array::from_fn(|i| (base[i] << k[i]) + nudge[i]);
            check(&acc, &multiplier, &shift);
        }

        /// The whole output stage: bias, per-channel or per-tensor constants, zero point and
        /// any clamp range a layer can have (wider than i8 too).
        #[test]
        fn output_stage_lanes_match_scalar(
            acc in prop::array::uniform16(-(1i32 << 30)..(1 << 30)),
            bias in prop::array::uniform16(-(1i32 << 30)..=(1 << 30)),
            multiplier in prop::array::uniform16(1i32..=i32::MAX),
            shift in prop::array::uniform16(SHIFT_MIN..=SHIFT_MAX),
            per_tensor in any::<bool>(),
            out_zp in -128i32..=127,
            range in (-200i32..=200, -200i32..=200),
        ) {
            if !avx512f() {
                return Ok(());
            }
            let (act_min, act_max) = (range.0.min(range.1), range.0.max(range.1));
            // The fast paths require a non-empty i8 range (`i8_eligible`).
            prop_assume!(act_min.max(-128) <= act_max.min(127));
            let requant = if per_tensor {
                Requant::PerTensor { multiplier: multiplier[0], shift: shift[0] }
            } else {
                Requant::PerChannel { multiplier: &multiplier, shift: &shift }
            };
            let layer = QuantLayer::<16, 0> {
                weights: &[],
                bias: &bias,
                requant,
                in_zp: -128,
                out_zp,
                act_min,
                act_max,
            };
            check_stage(&acc, &layer);
        }
    }
}
