//! Every optimized kernel against its reference twin, bit for bit, on random inputs and
//! parameters.

mod common;

use common::Rng;
use lenet_core::kernels::conv::conv2d_relu_pool_i8;
use lenet_core::kernels::dense::dense_i8;
use lenet_core::kernels::{QuantLayer, Requant};
use lenet_core::reference::{conv2d_i8_ref, dense_i8_ref, max_pool2_i8_ref};
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
