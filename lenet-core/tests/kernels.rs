//! Every optimized kernel against its reference twin, bit for bit, on random inputs and
//! parameters.

mod common;

use common::Rng;
use lenet_core::kernels::QuantLayer;
use lenet_core::kernels::conv::conv2d_relu_pool_i8;
use lenet_core::kernels::dense::dense_i8;
use lenet_core::reference::{conv2d_i8_ref, dense_i8_ref, max_pool2_i8_ref};
use proptest::prelude::*;

struct Params {
    weights: Vec<i8>,
    bias: Vec<i32>,
    multiplier: Vec<i32>,
    shift: Vec<i32>,
    in_zp: i32,
    out_zp: i32,
}

fn params(r: &mut Rng, oc: usize, wn: usize, extreme: bool) -> Params {
    let shift_range = if extreme { (-31, 30) } else { (-14, -6) };
    Params {
        weights: (0..wn).map(|_| r.range(-127, 127) as i8).collect(),
        bias: (0..oc).map(|_| if extreme { r.range(-(1 << 30), 1 << 30) } else { r.range(-20_000, 20_000) } as i32).collect(),
        multiplier: (0..oc).map(|_| r.range(1, i32::MAX as i64) as i32).collect(),
        shift: (0..oc).map(|_| r.range(shift_range.0, shift_range.1) as i32).collect(),
        in_zp: r.range(-128, 127) as i32,
        out_zp: r.range(-128, 127) as i32,
    }
}

fn layer<'a, const OC: usize, const WN: usize>(
    p: &'a Params,
    relu: bool,
) -> QuantLayer<'a, OC, WN> {
    QuantLayer {
        weights: p.weights.as_slice().try_into().unwrap(),
        bias: p.bias.as_slice().try_into().unwrap(),
        multiplier: p.multiplier.as_slice().try_into().unwrap(),
        shift: p.shift.as_slice().try_into().unwrap(),
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
    let p = params(&mut r, OC, WN, extreme);
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
    let p = params(&mut r, OUT, WN, extreme);
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
