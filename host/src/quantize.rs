//! Post-training int8 quantization: calibration through `lenet-core`'s f32 pass, then the
//! integer parameters, all rounding done by `lenet_core::quant` (the one implementation).

use anyhow::{Context, Result, anyhow, bail};
use lenet_core::blob::{Activation, BlobWriter, QUANT_POINTS, SectionId};
use lenet_core::quant::{
    BIAS_LIMIT, FixedMultiplier, INPUT_ZERO_POINT, WEIGHT_LIMIT, choose_activation_params,
    quantize_multiplier, quantize_value,
};
use lenet_core::shape::{C1, C2, CLASSES, FC1};
use lenet_core::{Model, ScratchF32, pixels_to_f32};
use rayon::prelude::*;

use crate::data::{PIXELS, Split};
use crate::export::{AlignedBlob, f32_blob};
use crate::int4::{self, Int4Weights, Rounding};
use crate::model::FlatParams;

/// Observed real range of each quantized tensor boundary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranges {
    /// `(min, max)` of pool1, pool2, fc1 and the logits.
    pub ranges: [(f32, f32); 4],
    /// Images used.
    pub images: usize,
}

/// Calibration images per rayon job.
const CALIBRATION_CHUNK: usize = 64;

/// Runs the core's f32 pass over the first `count` images of `split` and records the range of
/// every tensor that int8 will represent, on all cores.
///
/// # Errors
/// If the parameters do not form a valid model.
pub fn calibrate(params: &FlatParams, split: &Split, count: usize) -> Result<Ranges> {
    let blob = AlignedBlob::new(&f32_blob(params)?);
    let model = Model::parse(blob.bytes()).map_err(|e| anyhow!("internal f32 blob: {e}"))?;
    let f = *model
        .f32()
        .ok_or_else(|| anyhow!("internal blob lacks the f32 model"))?;
    let n = count.min(split.len());
    if n == 0 {
        bail!("calibration needs at least one image");
    }
    // Fixed chunks, reduced in chunk order: the ranges do not depend on the number of threads.
    let parts: Vec<[(f32, f32); 4]> = split.images[..n * PIXELS]
        .par_chunks(CALIBRATION_CHUNK * PIXELS)
        .map(|images| {
            let mut r = [(f32::INFINITY, f32::NEG_INFINITY); 4];
            let mut scratch = Box::new(ScratchF32::new());
            for px in images.as_chunks::<PIXELS>().0 {
                let logits = f.forward(&pixels_to_f32(px), &mut scratch);
                let tensors: [&[f32]; 4] =
                    [scratch.pool1(), scratch.pool2(), scratch.fc1(), &logits];
                for (range, values) in r.iter_mut().zip(tensors) {
                    for &v in values {
                        range.0 = range.0.min(v);
                        range.1 = range.1.max(v);
                    }
                }
            }
            r
        })
        .collect();
    let mut ranges = [(f32::INFINITY, f32::NEG_INFINITY); 4];
    for p in parts {
        for (r, q) in ranges.iter_mut().zip(p) {
            r.0 = r.0.min(q.0);
            r.1 = r.1.max(q.1);
        }
    }
    Ok(Ranges { ranges, images: n })
}

/// The integer parameters of one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantizedLayer {
    /// Weights in `[-127, 127]` (int8) or `[-7, 7]` (int4, see `int4`), same layout as the f32
    /// ones.
    pub weights: Vec<i8>,
    /// Whether the weights are int4 (stored packed, `lenet_core::blob::i4`).
    pub int4: bool,
    /// Biases (scale `s_in · s_w`).
    pub bias: Vec<i32>,
    /// Requantization multipliers: one per output channel, or one for a layer quantized per
    /// tensor.
    pub multiplier: Vec<i32>,
    /// Requantization shifts, as many as the multipliers.
    pub shift: Vec<i32>,
}

/// How many weight scales a layer gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Granularity {
    /// One weight scale (and one requantization pair) for the whole layer, as TFLite quantizes
    /// fully connected layers.
    #[default]
    PerTensor,
    /// One weight scale per output channel.
    PerChannel,
}

/// Bits per weight of fc1, which holds 1,225,000 of the network's 1,256,080 weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum WeightBits {
    /// int8, as every other layer (a 1,258,996-byte blob).
    #[default]
    #[value(name = "8")]
    Eight,
    /// int4 with one scale per output unit, rounded as [`Int8Options::rounding`] says (the compact
    /// blob, about 637 KiB, for boards with 1 MiB of flash).
    #[value(name = "4")]
    Four,
}

/// How the int8 model of a blob is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int8Options {
    /// Training images that calibrate the activation ranges (and the int4 Hessian).
    pub calibration: usize,
    /// Weight scales of the dense layers (int8 weights; int4 fc1 always has one per unit).
    pub dense: Granularity,
    /// Bits per fc1 weight.
    pub fc1_bits: WeightBits,
    /// Rounding of int4 weights.
    pub rounding: Rounding,
}

impl Default for Int8Options {
    fn default() -> Self {
        Self {
            calibration: 3000,
            dense: Granularity::PerTensor,
            fc1_bits: WeightBits::Eight,
            rounding: Rounding::Nearest,
        }
    }
}

/// The whole int8 model as the host computed it, before serialisation.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedModel {
    /// conv1, conv2, fc1, fc2.
    pub layers: [QuantizedLayer; 4],
    /// Zero points of input, pool1, pool2, fc1, logits.
    pub zero_points: [i32; QUANT_POINTS],
    /// Scales of the same tensors.
    pub scales: [f32; QUANT_POINTS],
}

/// Largest magnitude among `w`.
fn max_abs(w: &[f32]) -> f32 {
    w.iter().fold(0.0f32, |m, &v| m.max(v.abs()))
}

fn quantize_layer(
    w: &[f32],
    b: &[f32],
    oc: usize,
    s_in: f32,
    s_out: f32,
    granularity: Granularity,
) -> Result<QuantizedLayer> {
    let per = w.len() / oc;
    let tensor_max = max_abs(w);
    let mut weights = Vec::with_capacity(w.len());
    let mut scales = Vec::with_capacity(oc);
    for row in w.chunks_exact(per) {
        let max_abs = match granularity {
            Granularity::PerTensor => tensor_max,
            Granularity::PerChannel => max_abs(row),
        };
        // An all-zero channel still needs a positive scale; its weights quantize to 0.
        let s_w = if max_abs > 0.0 {
            f64::from(max_abs) / f64::from(WEIGHT_LIMIT)
        } else {
            1.0
        };
        weights.extend(
            row.iter()
                .map(|&v| quantize_value(f64::from(v), s_w, 0, -WEIGHT_LIMIT, WEIGHT_LIMIT) as i8),
        );
        scales.push(s_w);
    }
    let per_tensor = granularity == Granularity::PerTensor;
    finish_layer(weights, false, &scales, b, s_in, s_out, per_tensor)
}

/// A layer from its integer weights and their scale per output channel (all equal when
/// `per_tensor`): the biases and the requantization pairs (one pair per channel, or one).
fn finish_layer(
    weights: Vec<i8>,
    int4: bool,
    scales: &[f64],
    b: &[f32],
    s_in: f32,
    s_out: f32,
    per_tensor: bool,
) -> Result<QuantizedLayer> {
    let oc = scales.len();
    let mut layer = QuantizedLayer {
        weights,
        int4,
        bias: Vec::with_capacity(oc),
        multiplier: Vec::with_capacity(oc),
        shift: Vec::with_capacity(oc),
    };
    for (o, (&s_w, &bias)) in scales.iter().zip(b).enumerate() {
        let s_acc = f64::from(s_in) * s_w;
        layer.bias.push(quantize_value(
            f64::from(bias),
            s_acc,
            0,
            -BIAS_LIMIT,
            BIAS_LIMIT,
        ));
        let FixedMultiplier { multiplier, shift } = quantize_multiplier(s_acc / f64::from(s_out))
            .with_context(|| {
            format!(
                "output channel {o}: scale ratio {} out of range",
                s_acc / f64::from(s_out)
            )
        })?;
        // Per tensor, every channel has the same scale and so the same pair: keep one.
        if !per_tensor || o == 0 {
            layer.multiplier.push(multiplier);
            layer.shift.push(shift);
        }
    }
    Ok(layer)
}

/// Quantizes f32 parameters with the calibrated ranges: the convolutions per output channel,
/// the dense layers with the given granularity; with `fc1_int4`, fc1 takes those int4 weights
/// and their scales (one per output unit) instead.
///
/// # Errors
/// A tanh model (int8 supports ReLU only) or a scale the fixed-point format cannot express.
pub fn quantize(
    params: &FlatParams,
    ranges: &Ranges,
    dense: Granularity,
    fc1_int4: Option<Int4Weights>,
) -> Result<QuantizedModel> {
    if params.activation != Activation::Relu {
        bail!("int8 export supports ReLU models only; export a tanh model with --precision f32");
    }
    let mut scales = [1.0f32 / 255.0; QUANT_POINTS];
    let mut zero_points = [INPUT_ZERO_POINT; QUANT_POINTS];
    for (i, &(lo, hi)) in ranges.ranges.iter().enumerate() {
        let (s, zp) = choose_activation_params(lo, hi);
        scales[i + 1] = s;
        zero_points[i + 1] = zp;
    }
    let layer = |i: usize, w: &[f32], b: &[f32], oc: usize| {
        let granularity = if i < 2 {
            Granularity::PerChannel
        } else {
            dense
        };
        quantize_layer(w, b, oc, scales[i], scales[i + 1], granularity)
            .with_context(|| format!("quantizing layer {}", ["conv1", "conv2", "fc1", "fc2"][i]))
    };
    let fc1 = match fc1_int4 {
        None => layer(2, &params.fc1_w, &params.fc1_b, FC1)?,
        Some(q) => {
            let (s_in, s_out) = (scales[2], scales[3]);
            finish_layer(q.values, true, &q.scales, &params.fc1_b, s_in, s_out, false)
                .context("quantizing layer fc1 (int4)")?
        }
    };
    Ok(QuantizedModel {
        layers: [
            layer(0, &params.conv1_w, &params.conv1_b, C1)?,
            layer(1, &params.conv2_w, &params.conv2_b, C2)?,
            fc1,
            layer(3, &params.fc2_w, &params.fc2_b, CLASSES)?,
        ],
        zero_points,
        scales,
    })
}

/// Adds the int8 model's sections to `w`.
///
/// # Errors
/// A vector of the wrong length.
pub fn add_int8(w: &mut BlobWriter, q: &QuantizedModel) -> Result<()> {
    use SectionId as S;
    let ids = [
        [S::Conv1WeightQ, S::Conv1BiasQ, S::Conv1Requant],
        [S::Conv2WeightQ, S::Conv2BiasQ, S::Conv2Requant],
        [S::Fc1WeightQ, S::Fc1BiasQ, S::Fc1Requant],
        [S::Fc2WeightQ, S::Fc2BiasQ, S::Fc2Requant],
    ];
    for ([wi, bi, ri], layer) in ids.into_iter().zip(&q.layers) {
        if layer.int4 {
            w.add_i4(wi, &layer.weights)?;
        } else {
            w.add_i8(wi, &layer.weights)?;
        }
        w.add_i32(bi, &layer.bias)?;
        let requant: Vec<i32> = layer
            .multiplier
            .iter()
            .chain(&layer.shift)
            .copied()
            .collect();
        w.add_i32(ri, &requant)?;
    }
    w.add_i32(S::ZeroPoints, &q.zero_points)?;
    w.add_f32(S::Scales, &q.scales)?;
    Ok(())
}

/// Which models an exported blob carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Precision {
    /// The integer-only model (what microcontrollers run; ~1.20 MiB).
    #[default]
    Int8,
    /// The float model (~4.8 MiB).
    F32,
    /// Both.
    Both,
}

/// Builds a blob with the requested precisions; int8 calibrates on the first
/// `options.calibration` images of `calib`, and with int4 fc1 weights also takes GPTQ's Hessian
/// from them.
///
/// # Errors
/// As [`calibrate`], [`quantize`] and [`int4::fc1_int4`].
pub fn build_blob(
    params: &FlatParams,
    precision: Precision,
    calib: &Split,
    options: &Int8Options,
) -> Result<Vec<u8>> {
    let mut w = BlobWriter::new(params.activation);
    if matches!(precision, Precision::F32 | Precision::Both) {
        crate::export::add_f32(&mut w, params)?;
    }
    if matches!(precision, Precision::Int8 | Precision::Both) {
        let ranges = calibrate(params, calib, options.calibration)?;
        let fc1_int4 = match options.fc1_bits {
            WeightBits::Eight => None,
            WeightBits::Four => Some(int4::fc1_int4(
                params,
                calib,
                options.calibration,
                options.rounding,
            )?),
        };
        add_int8(&mut w, &quantize(params, &ranges, options.dense, fc1_int4)?)?;
    }
    Ok(w.finish()?)
}
