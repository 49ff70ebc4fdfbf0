//! On-target check of the optimized int8 kernels against `lenet_core::reference`.
//!
//! The golden vectors prove the whole network bit-exact for 20 images; this adds pseudo-random
//! cases (deterministic xorshift32) that drive the `asm!` loops of the core's kernel family (the
//! DSP loops of `lenet_core::kernels::arm`, or on the Cortex-M55 the Helium loops of
//! `lenet_core::kernels::mve`: the raw-byte dot products, the zero point through `Σ w`, the
//! vector output stage) with full-range weights, inputs, zero points and requantization
//! parameters, and compares every output byte with the naive reference twins:
//!
//! - conv, `IC = 20` (conv2's instance of the 2×2 `asm!` loop, 500 taps per row) and `IC = 1`
//!   (conv1's, 25 taps repacked to 28), each with an odd number of output channels (the portable
//!   fallback for the last one) and 6×6 or 8×8 maps (borders and interior), against
//!   `conv2d_i8_ref` + `max_pool2_i8_ref`;
//! - dense, `IN = 2450` (fc1's instance of the 4-row `asm!` loop) on the first 6 rows of the
//!   model's fc1 weights (no RAM for random ones; 6 rows: two overlapping blocks), and a small
//!   random layer with `IN % 4 != 0`, against `dense_i8_ref`;
//! - int4 dense, `IN = 2450` (fc1's instance of the 2-row `asm!` loop) on 3 random rows (an odd
//!   count: the last pair overlaps) and, for a compact blob, on the first 6 rows of the model's
//!   int4 fc1, and a small random layer with a partial last group (`IN % 8 != 0`), against
//!   `dense_i4_ref`.
//!
//! The buffers (up to about 6 KiB of stack) are test scaffolding: the self-test runs this check after it
//! has measured the peak stack of inference, so they do not count towards the RAM figure.

use lenet_core::blob::i4;
use lenet_core::kernels::conv::conv2d_relu_pool_i8;
use lenet_core::kernels::dense::{dense_i4, dense_i8};
use lenet_core::kernels::{QuantLayer, Requant};
use lenet_core::reference::{conv2d_i8_ref, dense_i4_ref, dense_i8_ref, max_pool2_i8_ref};
use lenet_core::shape::FLAT;
use lenet_core::{Fc1, I8Model};

/// Deterministic xorshift32 generator (Marsaglia), never zero.
struct XorShift(u32);

impl XorShift {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// Uniform-ish in `lo..=hi` (modulo bias is irrelevant here).
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() % (hi - lo + 1) as u32) as i32
    }

    fn fill_i8(&mut self, out: &mut [i8], lo: i32, hi: i32) {
        for v in out {
            *v = self.range(lo, hi) as i8;
        }
    }

    /// Random int4 rows of `cols` elements in `[-7, 7]`, packed as `lenet_core::blob::i4` lays
    /// them out (padding nibbles 0).
    fn fill_i4(&mut self, out: &mut [u8], cols: usize) {
        out.fill(0);
        for row in out.chunks_exact_mut(i4::row_bytes(cols)) {
            for k in 0..cols {
                let (byte, shift) = i4::position(k);
                row[byte] |= ((self.range(-7, 7) as u8) & 0x0F) << shift;
            }
        }
    }

    /// Requantization parameters of one channel: a Q0.31 multiplier in `[2^30, 2^31)` and a
    /// right shift that maps accumulators of about `2^log2_acc` to a few tens.
    fn requant(&mut self, log2_acc: i32) -> (i32, i32) {
        let multiplier = (0x4000_0000 | (self.next() >> 2)) as i32;
        (multiplier, -(log2_acc - 6) + self.range(-1, 1))
    }
}

/// Quantization parameters of one random layer with `OC` channels.
struct Params<const OC: usize> {
    bias: [i32; OC],
    /// One per channel; all equal when `per_tensor`.
    multiplier: [i32; OC],
    shift: [i32; OC],
    /// The layer holds one requantization pair for all channels.
    per_tensor: bool,
    in_zp: i32,
    out_zp: i32,
    act_min: i32,
}

impl<const OC: usize> Params<OC> {
    fn random(rng: &mut XorShift, log2_acc: i32, relu: bool, per_tensor: bool) -> Self {
        let mut p = Params {
            bias: [0; OC],
            multiplier: [0; OC],
            shift: [0; OC],
            per_tensor,
            in_zp: rng.range(-128, 127),
            out_zp: rng.range(-128, 127),
            act_min: -128,
        };
        if relu {
            p.act_min = p.out_zp;
        }
        for oc in 0..OC {
            p.bias[oc] = rng.range(-(1 << log2_acc), 1 << log2_acc);
            (p.multiplier[oc], p.shift[oc]) = rng.requant(log2_acc);
        }
        if per_tensor {
            p.multiplier = [p.multiplier[0]; OC];
            p.shift = [p.shift[0]; OC];
        }
        p
    }

    fn layer<'a, const WN: usize, W: ?Sized>(
        &'a self,
        weights: &'a W,
    ) -> QuantLayer<'a, OC, WN, W> {
        QuantLayer {
            weights,
            bias: &self.bias,
            requant: {
                let n = if self.per_tensor { 1 } else { OC };
                defmt::unwrap!(Requant::from_rows(&self.multiplier[..n], &self.shift[..n]))
            },
            in_zp: self.in_zp,
            out_zp: self.out_zp,
            act_min: self.act_min,
            act_max: 127,
        }
    }
}

/// One random convolution case: the fast fused kernel against reference conv + pool.
/// `REF = OC·H·W` (full-resolution reference output). Returns whether all outputs matched.
#[inline(never)]
fn conv_case<
    const IC: usize,
    const OC: usize,
    const H: usize,
    const W: usize,
    const IN: usize,
    const WN: usize,
    const OUT: usize,
    const REF: usize,
>(
    rng: &mut XorShift,
    relu: bool,
    per_tensor: bool,
) -> bool {
    let mut input = [0i8; IN];
    let mut weights = [0i8; WN];
    rng.fill_i8(&mut input, -128, 127);
    rng.fill_i8(&mut weights, -127, 127);
    // |acc| is about sqrt(IC·25)·73·147 for uniform bytes.
    let log2_acc = if IC >= 16 { 18 } else { 15 };
    let p = Params::<OC>::random(rng, log2_acc, relu, per_tensor);
    let mut fast = [0i8; OUT];
    conv2d_relu_pool_i8::<IC, OC, H, W, IN, WN, OUT>(&input, &p.layer(&weights), &mut fast);
    let mut full = [0i8; REF];
    conv2d_i8_ref(
        &input,
        IC,
        H,
        W,
        &weights,
        &p.bias,
        &p.multiplier,
        &p.shift,
        p.in_zp,
        p.out_zp,
        p.act_min,
        127,
        &mut full,
    );
    let mut pooled = [0i8; OUT];
    max_pool2_i8_ref(&full, OC, H, W, &mut pooled);
    report("conv", IC, fast == pooled)
}

/// One dense case: the fast kernel against `dense_i8_ref`, on a random input and the given
/// weights and parameters.
#[inline(never)]
fn dense_case<const IN: usize, const OUT: usize, const WN: usize>(
    rng: &mut XorShift,
    layer: &QuantLayer<'_, OUT, WN>,
) -> bool {
    let mut input = [0i8; IN];
    rng.fill_i8(&mut input, -128, 127);
    let mut fast = [0i8; OUT];
    dense_i8(&input, layer, &mut fast);
    let mut reference = [0i8; OUT];
    let (mut multiplier, mut shift) = ([0; OUT], [0; OUT]);
    for (oc, (m, s)) in multiplier.iter_mut().zip(&mut shift).enumerate() {
        (*m, *s) = layer.requant.get(oc);
    }
    dense_i8_ref(
        &input,
        layer.weights,
        layer.bias,
        &multiplier,
        &shift,
        layer.in_zp,
        layer.out_zp,
        layer.act_min,
        layer.act_max,
        &mut reference,
    );
    report("dense", IN, fast == reference)
}

/// A small random dense layer (`IN = 50`: 12 words and a 2-byte tail).
#[inline(never)]
fn small_dense_case(rng: &mut XorShift, relu: bool, per_tensor: bool) -> bool {
    let mut weights = [0i8; 7 * 50];
    rng.fill_i8(&mut weights, -127, 127);
    let p = Params::<7>::random(rng, 16, relu, per_tensor);
    dense_case::<50, 7, { 7 * 50 }>(rng, &p.layer(&weights))
}

/// The model's first 6 rows of fc1 (`IN = 2450`, flash) with random parameters, int8 or int4
/// as the model has them.
#[inline(never)]
fn fc1_rows_case(model: &I8Model<'_>, rng: &mut XorShift, relu: bool, per_tensor: bool) -> bool {
    const ROWS: usize = 6;
    const RB: usize = i4::row_bytes(FLAT);
    let p = Params::<ROWS>::random(rng, 18, relu, per_tensor);
    match &model.fc1 {
        Fc1::I8(fc1) => {
            let Ok(weights) = <&[i8; ROWS * FLAT]>::try_from(&fc1.weights[..ROWS * FLAT]) else {
                return false;
            };
            dense_case::<FLAT, ROWS, { ROWS * FLAT }>(rng, &p.layer(weights))
        }
        Fc1::I4(fc1) => {
            let Ok(weights) = <&[u8; ROWS * RB]>::try_from(&fc1.weights[..ROWS * RB]) else {
                return false;
            };
            dense_i4_case::<FLAT, ROWS, { ROWS * FLAT }, { ROWS * RB }>(rng, &p.layer(weights))
        }
    }
}

/// One int4 dense case: the fast kernel against `dense_i4_ref`, on a random input and the given
/// weights and parameters.
#[inline(never)]
fn dense_i4_case<const IN: usize, const OUT: usize, const WN: usize, const WB: usize>(
    rng: &mut XorShift,
    layer: &QuantLayer<'_, OUT, WN, [u8; WB]>,
) -> bool {
    let mut input = [0i8; IN];
    rng.fill_i8(&mut input, -128, 127);
    let mut fast = [0i8; OUT];
    dense_i4(&input, layer, &mut fast);
    let mut reference = [0i8; OUT];
    let (mut multiplier, mut shift) = ([0; OUT], [0; OUT]);
    for (oc, (m, s)) in multiplier.iter_mut().zip(&mut shift).enumerate() {
        (*m, *s) = layer.requant.get(oc);
    }
    dense_i4_ref(
        &input,
        layer.weights,
        layer.bias,
        &multiplier,
        &shift,
        layer.in_zp,
        layer.out_zp,
        layer.act_min,
        layer.act_max,
        &mut reference,
    );
    report("dense int4", IN, fast == reference)
}

/// Random int4 layers: 3 rows of `IN = 2450` (fc1's loop instance, an odd row count) and 5 rows
/// of `IN = 21` (2 whole groups and a partial one of 5).
#[inline(never)]
fn random_i4_cases(rng: &mut XorShift, relu: bool, per_tensor: bool) -> bool {
    const RB: usize = i4::row_bytes(FLAT);
    let mut big = [0u8; 3 * RB];
    rng.fill_i4(&mut big, FLAT);
    let p = Params::<3>::random(rng, 15, relu, per_tensor);
    let a = dense_i4_case::<FLAT, 3, { 3 * FLAT }, { 3 * RB }>(rng, &p.layer(&big));
    const SMALL: usize = i4::row_bytes(21);
    let mut small = [0u8; 5 * SMALL];
    rng.fill_i4(&mut small, 21);
    let p = Params::<5>::random(rng, 11, relu, per_tensor);
    let b = dense_i4_case::<21, 5, { 5 * 21 }, { 5 * SMALL }>(rng, &p.layer(&small));
    a && b
}

fn report(kernel: &str, size: usize, ok: bool) -> bool {
    if !ok {
        defmt::error!(
            "kernel check: {=str} ({=usize}) differs from lenet_core::reference",
            kernel,
            size
        );
    }
    ok
}

/// Runs every case a few times with different seeds; logs and returns whether all matched.
pub fn run(model: &I8Model<'_>) -> bool {
    let mut rng = XorShift(0x2545_F491);
    let mut cases = 0usize;
    let mut passed = 0usize;
    for round in 0..4 {
        // Rounds 2 and 3 requantize per tensor (one pair for all channels).
        let (relu, per_tensor) = (round % 2 == 1, round >= 2);
        for ok in [
            conv_case::<20, 3, 6, 6, { 20 * 36 }, { 3 * 500 }, { 3 * 9 }, { 3 * 36 }>(
                &mut rng, relu, per_tensor,
            ),
            conv_case::<1, 5, 8, 8, 64, { 5 * 25 }, { 5 * 16 }, { 5 * 64 }>(
                &mut rng, relu, per_tensor,
            ),
            fc1_rows_case(model, &mut rng, relu, per_tensor),
            small_dense_case(&mut rng, relu, per_tensor),
            random_i4_cases(&mut rng, relu, per_tensor),
        ] {
            cases += 1;
            passed += usize::from(ok);
        }
    }
    if passed == cases {
        defmt::info!(
            "kernel check: {=usize}/{=usize} random cases equal lenet_core::reference",
            passed,
            cases
        );
    }
    passed == cases
}
