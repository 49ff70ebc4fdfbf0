//! The rounding-tie stress set: a crafted int8 blob whose requantizations land on exact ties
//! (an exact product `acc · M · 2^(S−31)` ending in .5), and images on which it produces tied
//! top logits. `docs/quantization.md` (section "Checking an implementation") describes what it
//! exercises; `tests/tests/tie_stress.rs` and the firmware self-test check it bit for bit.
//!
//! The golden MNIST vectors never land on a tie, so an implementation that rounds ties the
//! wrong way matches all of them. This set cannot be passed that way: rounding ties half away
//! from zero, half to even or half down gives other logits on every record, and the last two
//! change the digit of half of them or more.
//!
//! # Construction
//!
//! Every output channel of every layer gets an odd multiplier mantissa `odd`, a rounding depth
//! `c >= 1` and a weight exponent `a`: its non-zero weights are `±2^a` (a few taps or inputs
//! per channel), its bias `β · 2^a`, and its multiplier and shift stand for the real number
//! `odd · 2^−(a+c)`. The requantized value is then `odd · n / 2^c` with the integer
//! `n = Σ ±(x − zp_in) + β`, an exact tie whenever `n ≡ 2^(c−1) (mod 2^c)`: for `c = 1` at every
//! odd `n`, about half of all requantizations. The choices of `odd`, `c` and `a` give shifts
//! between +1 (a left shift) and −7, both code paths of `lenet_core::quant::requantize` (a total
//! shift `31 − S` up to 32 and above it), and a few channels with zero weights and a bias of
//! `±2^29`, `±2^30` or `3 · 2^28` tie at total shifts 59 to 61.
//!
//! fc2 is requantized per tensor (total shift 32) and its ten rows come in pairs: rows `2i` and
//! `2i+1` have the same two weights (`+2` and `−2`) and biases that differ by one step, so their
//! exact values differ by 0.5. Whenever the lower row lands on a tie the two logits are equal; when that pair is on
//! top, the digit is decided by the argmax rule (ties go to the lowest index) and by the tie
//! rule (rounding the tie down would make the upper row win).
//!
//! The images are drawn from a deterministic pool of synthetic textures (uniform noise, blocks,
//! strokes, gradients); [`records`] keeps those with tied top logits and those with the most
//! negative ties in the logits. They are not digits: each record's label repeats the expected
//! digit.

use lenet_core::blob::{Activation, BlobWriter, SectionId};
use lenet_core::golden::{self, RECORD_LEN};
use lenet_core::kernels::QuantLayer;
use lenet_core::kernels::act::argmax_i8;
use lenet_core::quant::{pixel_to_i8, requantize, requantize_to_i8};
use lenet_core::reference::forward_i8_ref;
use lenet_core::shape::{C1, C2, CLASSES, FC1, FLAT, IN_H, IN_LEN, K, P1, P2, PAD};
use lenet_core::{I8Model, Prediction};

/// File name of the crafted blob in `tests/fixtures/`.
pub const BLOB_FILE: &str = "tie-stress.blob";
/// File name of its golden records in `tests/fixtures/`.
pub const GOLDEN_FILE: &str = "golden-tie-stress.bin";
/// Number of golden records.
pub const RECORDS: usize = 24;
/// Images in the candidate pool [`records`] chooses from.
pub const POOL: usize = 256;
/// Records chosen because their two top logits tie (at most; the rest have the most negative
/// ties in their logits).
pub const TOP_TIES: usize = 12;

/// Zero points of the input, pool1, pool2, fc1 and logits tensors.
const ZERO_POINTS: [i32; 5] = [-128, -128, -120, -128, 2];

/// `(odd, c)` pairs: multiplier mantissa and rounding depth, real gain `odd / 2^c`.
const GAINS: [(i32, u32); 8] = [
    (1, 1),
    (3, 2),
    (1, 2),
    (5, 3),
    (7, 3),
    (3, 1),
    (1, 1),
    (3, 2),
];

/// How a requantization rounds an exact tie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TieRule {
    /// Toward positive infinity: the rule of `docs/quantization.md` (`lenet_core::quant`).
    HalfUp,
    /// Away from zero (`f64::round`, TFLite's double rounding); wrong for negative ties.
    HalfAwayFromZero,
    /// To the even neighbour (banker's rounding); wrong for half of all ties.
    HalfToEven,
    /// Toward negative infinity; wrong for every tie.
    HalfDown,
}

impl TieRule {
    /// The rules that differ from [`TieRule::HalfUp`].
    pub const WRONG: [Self; 3] = [Self::HalfAwayFromZero, Self::HalfToEven, Self::HalfDown];
}

/// Exact ties met by one layer's requantizations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayerTies {
    /// Requantizations of the layer (for a convolution: one per pooled output, of the largest
    /// accumulator of its window, which determines the output).
    pub total: usize,
    /// Ties of a positive value (`k + 0.5`, rounded up to `k + 1`).
    pub positive: usize,
    /// Ties of a negative value (`−k − 0.5`, rounded up to `−k`, not away from zero).
    pub negative: usize,
    /// Ties at a total shift `31 − S` of at most 32 (the 64-bit path of `requantize`).
    pub short_shift: usize,
    /// Ties at a total shift above 32 (the high-word path of `requantize`).
    pub long_shift: usize,
    /// Ties at a total shift of 60 or more.
    pub extreme_shift: usize,
    /// Ties at a positive shift `S` (a left shift; total shift below 31).
    pub left_shift: usize,
}

impl LayerTies {
    fn add(&mut self, other: &Self) {
        self.total += other.total;
        self.positive += other.positive;
        self.negative += other.negative;
        self.short_shift += other.short_shift;
        self.long_shift += other.long_shift;
        self.extreme_shift += other.extreme_shift;
        self.left_shift += other.left_shift;
    }
}

/// What [`trace`] saw on one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// The logits and digit under the rule traced.
    pub prediction: Prediction<i8>,
    /// Ties of conv1, conv2, fc1 and fc2.
    pub ties: [LayerTies; 4],
}

impl Trace {
    /// The ties of all four layers together.
    pub fn all_ties(&self) -> LayerTies {
        let mut sum = LayerTies::default();
        for t in &self.ties {
            sum.add(t);
        }
        sum
    }
}

/// A small deterministic pseudo-random generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Multiplier and shift standing for `odd · 2^−(a+c)`: the mantissa `odd` normalised into
/// `[2^30, 2^31)`.
fn multiplier_shift(odd: i32, a: u32, c: u32) -> (i32, i32) {
    let bits = 32 - odd.leading_zeros();
    let multiplier = odd << (31 - bits);
    let shift = bits as i32 - a as i32 - c as i32;
    (multiplier, shift)
}

/// One layer's sections under construction.
struct Layer {
    weights: Vec<i8>,
    bias: Vec<i32>,
    multiplier: Vec<i32>,
    shift: Vec<i32>,
}

impl Layer {
    fn new(oc: usize, fan_in: usize) -> Self {
        Self {
            weights: vec![0; oc * fan_in],
            bias: vec![0; oc],
            multiplier: vec![0; oc],
            shift: vec![0; oc],
        }
    }

    /// Channel `o`: `taps` weights `±2^a` (the first positive) at the given weight indices,
    /// bias `β · 2^a`, gain `GAINS[g]`.
    fn channel(&mut self, r: &mut Rng, o: usize, taps: &[usize], a: u32, g: usize) {
        let fan_in = self.weights.len() / self.bias.len();
        for (k, &i) in taps.iter().enumerate() {
            let sign = if k == 0 || r.next() & 1 == 0 { 1 } else { -1 };
            self.weights[o * fan_in + i] = (sign << a) as i8;
        }
        let beta = r.range(-40, 40) as i32;
        self.bias[o] = beta << a;
        let (odd, c) = GAINS[g % GAINS.len()];
        (self.multiplier[o], self.shift[o]) = multiplier_shift(odd, a, c);
    }

    /// Channel `o`: no weights, bias `β · 2^a` and gain 1/2, so that an odd `β` is a tie of
    /// `β / 2` at total shift `31 − S = a + 31`.
    fn bias_only(&mut self, o: usize, beta: i32, a: u32) {
        self.bias[o] = beta << a;
        (self.multiplier[o], self.shift[o]) = multiplier_shift(1, a, 1);
    }

    fn write(&self, w: &mut BlobWriter, ids: [SectionId; 3]) {
        w.add_i8(ids[0], &self.weights).expect("weights section");
        w.add_i32(ids[1], &self.bias).expect("bias section");
        let mut rq = self.multiplier.clone();
        rq.extend_from_slice(&self.shift);
        w.add_i32(ids[2], &rq).expect("requantization section");
    }
}

/// The [`GAINS`] index of channel `o`: gain 3/2 with a left shift (`S = +1`) for every
/// fourteenth channel (whose weight exponent is 0), a random one otherwise.
fn gain_of(r: &mut Rng, o: usize) -> usize {
    if o.is_multiple_of(14) {
        5
    } else {
        r.below(GAINS.len())
    }
}

/// Distinct random indices below `n`.
fn distinct(r: &mut Rng, count: usize, n: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let i = r.below(n);
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Channels with zero weights and a tie of the bias alone: `(β, a)`, value `β / 2`, total shift
/// `a + 31`.
const BIAS_ONLY: [(i32, u32); 5] = [(1, 30), (-1, 30), (1, 29), (-1, 29), (3, 28)];

/// The crafted int8-only blob (deterministic).
pub fn blob() -> Vec<u8> {
    use SectionId as S;
    let mut r = Rng(0x7e57_71e5_0000_0001);
    let mut w = BlobWriter::new(Activation::Relu);

    let taps = K * K;
    let mut conv1 = Layer::new(C1, taps);
    for o in 0..C1 {
        let count = 1 + r.below(3);
        let t = distinct(&mut r, count, taps);
        let g = gain_of(&mut r, o);
        conv1.channel(&mut r, o, &t, (o % 7) as u32, g);
    }
    conv1.write(&mut w, [S::Conv1WeightQ, S::Conv1BiasQ, S::Conv1Requant]);

    let mut conv2 = Layer::new(C2, C1 * taps);
    for o in 0..C2 - BIAS_ONLY.len() {
        let count = 1 + r.below(4);
        let t = distinct(&mut r, count, C1 * taps);
        let g = gain_of(&mut r, o);
        conv2.channel(&mut r, o, &t, (o % 7) as u32, g);
    }
    for (k, &(beta, a)) in BIAS_ONLY.iter().enumerate() {
        conv2.bias_only(C2 - BIAS_ONLY.len() + k, beta, a);
    }
    conv2.write(&mut w, [S::Conv2WeightQ, S::Conv2BiasQ, S::Conv2Requant]);

    let mut fc1 = Layer::new(FC1, FLAT);
    for o in 0..FC1 - 2 * BIAS_ONLY.len() {
        let count = 1 + r.below(4);
        let t = distinct(&mut r, count, FLAT);
        let g = gain_of(&mut r, o);
        fc1.channel(&mut r, o, &t, (o % 7) as u32, g);
    }
    for (k, &(beta, a)) in BIAS_ONLY.iter().chain(&BIAS_ONLY).enumerate() {
        fc1.bias_only(FC1 - 2 * BIAS_ONLY.len() + k, beta, a);
    }
    fc1.write(&mut w, [S::Fc1WeightQ, S::Fc1BiasQ, S::Fc1Requant]);

    // fc2: five pairs of equal rows whose biases differ by one step (2^a), one requantization
    // pair for the layer: weights ±2, gain 1/2, total shift 32.
    let a = 1;
    let mut fc2 = Layer::new(CLASSES, FC1);
    for pair in 0..CLASSES / 2 {
        let inputs = distinct(&mut r, 2, FC1 - 2 * BIAS_ONLY.len());
        let beta = r.range(-30, 30) as i32;
        for (k, &i) in inputs.iter().enumerate() {
            let v = if k % 2 == 0 { 1 << a } else { -(1 << a) };
            fc2.weights[2 * pair * FC1 + i] = v;
            fc2.weights[(2 * pair + 1) * FC1 + i] = v;
        }
        fc2.bias[2 * pair] = beta << a;
        fc2.bias[2 * pair + 1] = (beta + 1) << a;
    }
    let (m, s) = multiplier_shift(1, a, 1);
    w.add_i8(S::Fc2WeightQ, &fc2.weights).expect("fc2 weights");
    w.add_i32(S::Fc2BiasQ, &fc2.bias).expect("fc2 bias");
    w.add_i32(S::Fc2Requant, &[m, s])
        .expect("fc2 requantization");

    w.add_i32(S::ZeroPoints, &ZERO_POINTS).expect("zero points");
    // Informational only (the integer pass never reads scales).
    w.add_f32(
        S::Scales,
        &[1.0 / 255.0, 1.0 / 128.0, 1.0 / 64.0, 1.0 / 32.0, 1.0 / 16.0],
    )
    .expect("scales");
    w.finish().expect("a valid blob")
}

/// Candidate image `index` of the pool: uniform noise, 4x4 blocks, strokes on a dark
/// background, or a gradient with noise, by `index % 4`.
pub fn candidate(index: usize) -> [u8; IN_LEN] {
    let mut r = Rng(0x1a9e_5eed_d000 ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut px = [0u8; IN_LEN];
    match index % 4 {
        0 => px.iter_mut().for_each(|p| *p = r.next() as u8),
        1 => {
            let blocks: Vec<u8> = (0..49).map(|_| r.next() as u8).collect();
            for (i, p) in px.iter_mut().enumerate() {
                *p = blocks[(i / IN_H / 4) * 7 + (i % IN_H) / 4];
            }
        }
        2 => {
            for _ in 0..4 + r.below(5) {
                let (mut y, mut x) = (r.below(IN_H) as i64, r.below(IN_H) as i64);
                let (dy, dx) = (r.range(-1, 1), r.range(-1, 1));
                let ink = 128 + r.below(128) as u8;
                for _ in 0..6 + r.below(16) {
                    if (0..IN_H as i64).contains(&y) && (0..IN_H as i64).contains(&x) {
                        px[y as usize * IN_H + x as usize] = ink;
                    }
                    y += dy;
                    x += dx;
                }
            }
        }
        _ => {
            let (gy, gx) = (r.range(-9, 9), r.range(-9, 9));
            for (i, p) in px.iter_mut().enumerate() {
                let (y, x) = ((i / IN_H) as i64, (i % IN_H) as i64);
                let v = 128 + gy * (y - 14) + gx * (x - 14) + r.range(-20, 20);
                *p = v.clamp(0, 255) as u8;
            }
        }
    }
    px
}

/// lenet-core's reference implementation of the whole network
/// ([`lenet_core::reference::forward_i8_ref`], unfused, layer by layer): the expected answer of
/// a golden record.
pub fn reference(m: &I8Model<'_>, pixels: &[u8; IN_LEN]) -> Prediction<i8> {
    let logits = forward_i8_ref(m, pixels).logits;
    Prediction {
        digit: argmax_i8(&logits) as u8,
        logits,
    }
}

/// Whether requantizing `acc` with `(multiplier, shift)` is an exact tie, and if so whether
/// its value is negative, with the total shift `31 − shift`.
pub fn tie(acc: i32, multiplier: i32, shift: i32) -> Option<(bool, u32)> {
    let t = (31 - shift.clamp(-31, 30)) as u32; // 1..=62
    let product = i64::from(acc) * i64::from(multiplier);
    (product.rem_euclid(1i64 << t) == 1i64 << (t - 1)).then_some((product < 0, t))
}

/// One output of a layer under `rule`: `lenet_core::quant::requantize_to_i8` for
/// [`TieRule::HalfUp`], otherwise its requantized value moved down by one on the ties `rule`
/// rounds down. Counts ties into `ties`.
#[allow(clippy::too_many_arguments)]
fn output(
    acc: i32,
    (multiplier, shift): (i32, i32),
    out_zp: i32,
    lo: i32,
    hi: i32,
    rule: TieRule,
    ties: &mut LayerTies,
) -> i8 {
    ties.total += 1;
    let Some((negative, t)) = tie(acc, multiplier, shift) else {
        return requantize_to_i8(acc, multiplier, shift, out_zp, lo, hi);
    };
    if negative {
        ties.negative += 1;
    } else {
        ties.positive += 1;
    }
    if t <= 32 {
        ties.short_shift += 1;
    } else {
        ties.long_shift += 1;
    }
    if t >= 60 {
        ties.extreme_shift += 1;
    }
    if t < 31 {
        ties.left_shift += 1;
    }
    let up = requantize(acc, multiplier, shift);
    let down = match rule {
        TieRule::HalfUp => return requantize_to_i8(acc, multiplier, shift, out_zp, lo, hi),
        TieRule::HalfAwayFromZero => negative,
        TieRule::HalfToEven => up & 1 != 0,
        TieRule::HalfDown => true,
    };
    let v = if down { up.saturating_sub(1) } else { up };
    v.saturating_add(out_zp).clamp(lo.max(-128), hi.min(127)) as i8
}

/// The non-zero weights of output channel `o`: `(index, weight)`.
fn nonzero(weights: &[i8], o: usize, fan_in: usize) -> Vec<(usize, i32)> {
    weights[o * fan_in..(o + 1) * fan_in]
        .iter()
        .enumerate()
        .filter(|&(_, &w)| w != 0)
        .map(|(i, &w)| (i, i32::from(w)))
        .collect()
}

/// conv 5x5 "same" + ReLU + 2x2 max-pool with each pooled output requantized from its window's
/// largest accumulator (equal to pooling the requantized outputs: every rule is monotonic).
fn conv_pool_traced<const OC: usize, const WN: usize>(
    x: &[i8],
    ic: usize,
    side: usize,
    l: &QuantLayer<'_, OC, WN>,
    rule: TieRule,
    ties: &mut LayerTies,
) -> Vec<i8> {
    let half = side / 2;
    let mut out = vec![0i8; OC * half * half];
    for o in 0..OC {
        let taps = nonzero(l.weights, o, ic * K * K);
        let acc = |y: usize, x0: usize| -> i32 {
            let mut acc = l.bias[o];
            for &(i, w) in &taps {
                let (c, ky, kx) = (i / (K * K), i / K % K, i % K);
                let (iy, ix) = (
                    (y + ky) as isize - PAD as isize,
                    (x0 + kx) as isize - PAD as isize,
                );
                if iy < 0 || ix < 0 || iy >= side as isize || ix >= side as isize {
                    continue;
                }
                let v = i32::from(x[(c * side + iy as usize) * side + ix as usize]);
                acc += w * (v - l.in_zp);
            }
            acc
        };
        for py in 0..half {
            for px in 0..half {
                let best = [(0, 0), (0, 1), (1, 0), (1, 1)]
                    .map(|(dy, dx)| acc(2 * py + dy, 2 * px + dx))
                    .into_iter()
                    .max()
                    .unwrap_or(i32::MIN);
                out[(o * half + py) * half + px] = output(
                    best,
                    l.requant.get(o),
                    l.out_zp,
                    l.act_min,
                    l.act_max,
                    rule,
                    ties,
                );
            }
        }
    }
    out
}

fn dense_traced<const OC: usize, const WN: usize>(
    x: &[i8],
    l: &QuantLayer<'_, OC, WN>,
    rule: TieRule,
    ties: &mut LayerTies,
) -> Vec<i8> {
    (0..OC)
        .map(|o| {
            let acc = nonzero(l.weights, o, x.len())
                .iter()
                .fold(l.bias[o], |acc, &(i, w)| {
                    acc + w * (i32::from(x[i]) - l.in_zp)
                });
            output(
                acc,
                l.requant.get(o),
                l.out_zp,
                l.act_min,
                l.act_max,
                rule,
                ties,
            )
        })
        .collect()
}

/// The network on `pixels` with ties rounded by `rule`, counting every tie. With
/// [`TieRule::HalfUp`] its logits are [`reference()`]'s (the test asserts it); the other rules
/// model implementations that round ties otherwise.
pub fn trace(m: &I8Model<'_>, pixels: &[u8; IN_LEN], rule: TieRule) -> Trace {
    let mut ties = [LayerTies::default(); 4];
    let input: Vec<i8> = pixels.iter().map(|&p| pixel_to_i8(p)).collect();
    let pool1 = conv_pool_traced(&input, 1, IN_H, &m.conv1, rule, &mut ties[0]);
    let pool2 = conv_pool_traced(&pool1, C1, P1, &m.conv2, rule, &mut ties[1]);
    debug_assert_eq!(pool2.len(), C2 * P2 * P2);
    let fc1 = dense_traced(
        &pool2,
        m.fc1.int8().expect("an int8 fc1"),
        rule,
        &mut ties[2],
    );
    let logits: [i8; CLASSES] = dense_traced(&fc1, &m.fc2, rule, &mut ties[3])
        .try_into()
        .expect("10 logits");
    Trace {
        prediction: Prediction {
            digit: argmax_i8(&logits) as u8,
            logits,
        },
        ties,
    }
}

/// Whether the largest of `logits` occurs more than once.
pub fn top_tied(logits: &[i8; CLASSES]) -> bool {
    let max = logits.iter().max();
    logits.iter().filter(|&v| Some(v) == max).count() > 1
}

/// The images of the stress set, in pool order: the first [`TOP_TIES`] candidates whose top
/// logits tie below the clamp (127), then, up to [`RECORDS`], those with the most negative ties in their logits
/// (earlier candidates first among equals).
pub fn records(m: &I8Model<'_>) -> Vec<[u8; IN_LEN]> {
    let traced: Vec<(usize, Trace)> = (0..POOL)
        .map(|i| (i, trace(m, &candidate(i), TieRule::HalfUp)))
        .collect();
    let mut chosen: Vec<usize> = traced
        .iter()
        .filter(|(_, t)| {
            let logits = &t.prediction.logits;
            top_tied(logits) && logits.iter().all(|&v| v < i8::MAX)
        })
        .map(|&(i, _)| i)
        .take(TOP_TIES)
        .collect();
    let mut rest: Vec<&(usize, Trace)> =
        traced.iter().filter(|(i, _)| !chosen.contains(i)).collect();
    rest.sort_by_key(|(i, t)| (std::cmp::Reverse(t.ties[3].negative), *i));
    chosen.extend(rest.iter().map(|(i, _)| *i).take(RECORDS - chosen.len()));
    chosen.sort_unstable();
    chosen.into_iter().map(candidate).collect()
}

/// The golden file of the stress set for `m` (the model of [`blob`]): one record per image of
/// [`records`], with [`reference()`]'s answer and that digit as the label.
pub fn golden_file(m: &I8Model<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(RECORDS * RECORD_LEN);
    for image in records(m) {
        let p = reference(m, &image);
        out.extend_from_slice(&golden::encode(&image, p.digit, &p));
    }
    out
}

/// What the stress set exercises, summed over its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Records.
    pub records: usize,
    /// Ties of conv1, conv2, fc1 and fc2 under the rule of the spec.
    pub ties: [LayerTies; 4],
    /// Records whose top logits tie.
    pub top_tied: usize,
    /// For each rule of [`TieRule::WRONG`]: records whose logits differ from the golden ones.
    pub logits_differ: [usize; 3],
    /// For each rule of [`TieRule::WRONG`]: records whose digit differs from the golden one.
    pub digit_differs: [usize; 3],
    /// Records whose digit differs when argmax ties go to the highest index instead.
    pub last_index_argmax_differs: usize,
}

/// The least each count of a [`Summary`] must reach (`records` is exact).
pub const MINIMUM: Summary = Summary {
    records: RECORDS,
    ties: [
        LayerTies {
            total: 0,
            positive: 20_000,
            negative: 6_000,
            short_shift: 10_000,
            long_shift: 15_000,
            extreme_shift: 0,
            left_shift: 5_000,
        },
        LayerTies {
            total: 0,
            positive: 12_000,
            negative: 4_000,
            short_shift: 4_000,
            long_shift: 12_000,
            extreme_shift: 4_000,
            left_shift: 1_500,
        },
        LayerTies {
            total: 0,
            positive: 2_000,
            negative: 800,
            short_shift: 800,
            long_shift: 2_000,
            extreme_shift: 150,
            left_shift: 300,
        },
        LayerTies {
            total: 0,
            positive: 40,
            negative: 40,
            short_shift: 100,
            long_shift: 0,
            extreme_shift: 0,
            left_shift: 0,
        },
    ],
    top_tied: 12,
    logits_differ: [20, 20, 20],
    digit_differs: [0, 8, 8],
    last_index_argmax_differs: 12,
};

impl Summary {
    /// Traces every record of `golden` (a golden file for `m`) under each rule.
    ///
    /// # Panics
    /// If `golden` is not a whole number of records.
    pub fn of(m: &I8Model<'_>, golden: &[u8]) -> Self {
        let file = golden::Golden::parse(golden).expect("a golden file");
        let mut s = Self {
            records: file.len(),
            ties: [LayerTies::default(); 4],
            top_tied: 0,
            logits_differ: [0; 3],
            digit_differs: [0; 3],
            last_index_argmax_differs: 0,
        };
        for r in file.records() {
            let want = r.prediction();
            let t = trace(m, r.image(), TieRule::HalfUp);
            for (sum, layer) in s.ties.iter_mut().zip(&t.ties) {
                sum.add(layer);
            }
            s.top_tied += usize::from(top_tied(&want.logits));
            for (k, rule) in TieRule::WRONG.into_iter().enumerate() {
                let p = trace(m, r.image(), rule).prediction;
                s.logits_differ[k] += usize::from(p.logits != want.logits);
                s.digit_differs[k] += usize::from(p.digit != want.digit);
            }
            let last = (0..CLASSES)
                .rev()
                .max_by_key(|&i| (want.logits[i], i))
                .unwrap_or(0);
            s.last_index_argmax_differs += usize::from(last as u8 != want.digit);
        }
        s
    }

    /// Checks every count against [`MINIMUM`].
    ///
    /// # Errors
    /// The first count below its minimum, described.
    pub fn check(&self) -> Result<(), String> {
        let min = &MINIMUM;
        if self.records != min.records {
            return Err(format!("{} records, not {}", self.records, min.records));
        }
        let layers = ["conv1", "conv2", "fc1", "fc2"];
        for ((name, got), want) in layers.iter().zip(&self.ties).zip(&min.ties) {
            for (what, g, w) in [
                ("positive", got.positive, want.positive),
                ("negative", got.negative, want.negative),
                ("short-shift", got.short_shift, want.short_shift),
                ("long-shift", got.long_shift, want.long_shift),
                ("extreme-shift", got.extreme_shift, want.extreme_shift),
                ("left-shift", got.left_shift, want.left_shift),
            ] {
                if g < w {
                    return Err(format!("{name}: {g} {what} ties, fewer than {w}"));
                }
            }
        }
        if self.top_tied < min.top_tied {
            return Err(format!(
                "{} records with tied top logits, fewer than {}",
                self.top_tied, min.top_tied
            ));
        }
        for (k, rule) in TieRule::WRONG.iter().enumerate() {
            if self.logits_differ[k] < min.logits_differ[k] {
                return Err(format!(
                    "{rule:?} changes the logits of {} records, fewer than {}",
                    self.logits_differ[k], min.logits_differ[k]
                ));
            }
            if self.digit_differs[k] < min.digit_differs[k] {
                return Err(format!(
                    "{rule:?} changes the digit of {} records, fewer than {}",
                    self.digit_differs[k], min.digit_differs[k]
                ));
            }
        }
        if self.last_index_argmax_differs < min.last_index_argmax_differs {
            return Err(format!(
                "a last-index argmax changes {} digits, fewer than {}",
                self.last_index_argmax_differs, min.last_index_argmax_differs
            ));
        }
        Ok(())
    }
}
