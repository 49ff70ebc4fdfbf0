//! int4 weights for fc1 (`host quantize --weight-bits 4`): one scale per output unit, each weight
//! rounded to the nearest level, or by GPTQ (`--int4-rounding gptq`).
//!
//! fc1 holds 1,225,000 of the network's 1,256,080 weights; at 4 bits the int8 blob's 1.20 MiB
//! shrinks to about 637 KiB, which fits boards with 1 MiB of flash. Rounding each weight to the
//! nearest of the 15 levels `[-7, 7]·s` ignores where the error could be absorbed; GPTQ (Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative
//! Pre-trained Transformers", ICLR 2023) quantizes the inputs of each output unit one at a time
//! and spreads each rounding error over the inputs not yet quantized, weighted by the inverse of
//! the calibration Hessian `H = Σ x·xᵀ` of the layer's input, so that the layer's outputs on the
//! calibration data move as little as possible. The rounding itself stays
//! `lenet_core::quant::quantize_value`, the one implementation of it.

use anyhow::{Context, Result, anyhow, bail};
use lenet_core::blob::i4;
use lenet_core::quant::quantize_value;
use lenet_core::shape::FLAT;
use lenet_core::{Model, ScratchF32, pixels_to_f32};
use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::data::Split;
use crate::export::{AlignedBlob, f32_blob};
use crate::model::FlatParams;

/// How int4 weights are rounded.
///
/// On the default model both keep the int8 model's accuracy (nearest 99.50 %, GPTQ 99.49 %, float
/// 99.51 %; docs/quantization.md), so the default is the simpler and faster one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Rounding {
    /// Each weight to the nearest level of its output unit's scale.
    #[default]
    Nearest,
    /// GPTQ: each rounding error is compensated on the inputs not yet quantized, weighted by the
    /// inverse calibration Hessian.
    Gptq,
}

/// A dense layer's weights at 4 bits: values in `[-7, 7]`, `[out][in]`, one scale per output.
#[derive(Debug, Clone, PartialEq)]
pub struct Int4Weights {
    /// The values, row-major `[out][in]`.
    pub values: Vec<i8>,
    /// The scale of each output unit's weights (`w ≈ value · scale`).
    pub scales: Vec<f64>,
}

/// The scale of one output unit: its largest magnitude maps to 7 (1 for an all-zero row, whose
/// weights all round to 0).
fn row_scale(row: &[f32]) -> f64 {
    let max = row.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
    if max > 0.0 {
        f64::from(max) / f64::from(i4::MAX)
    } else {
        1.0
    }
}

fn level(v: f64, scale: f64) -> i8 {
    quantize_value(v, scale, 0, i32::from(i4::MIN), i32::from(i4::MAX)) as i8
}

/// Rounds every weight of `w` (`[rows][cols]`) to the nearest level of its row's scale.
pub fn round_to_nearest(w: &[f32], cols: usize) -> Int4Weights {
    let scales: Vec<f64> = w.chunks_exact(cols).map(row_scale).collect();
    let values = w
        .chunks_exact(cols)
        .zip(&scales)
        .flat_map(|(row, &s)| row.iter().map(move |&v| level(f64::from(v), s)))
        .collect();
    Int4Weights { values, scales }
}

/// `H = Σ x·xᵀ / n` over fc1's inputs (the pooled conv2 features, lenet-core's f32 pass) for the
/// first `count` images of `split`.
///
/// # Errors
/// If the parameters do not form a valid model, or `count` is 0.
pub fn fc1_hessian(params: &FlatParams, split: &Split, count: usize) -> Result<DMatrix<f64>> {
    let blob = AlignedBlob::new(&f32_blob(params)?);
    let model = Model::parse(blob.bytes()).map_err(|e| anyhow!("internal f32 blob: {e}"))?;
    let f = *model
        .f32()
        .ok_or_else(|| anyhow!("internal blob lacks the f32 model"))?;
    let n = count.min(split.len());
    if n == 0 {
        bail!("the int4 Hessian needs at least one calibration image");
    }
    let rows: Vec<Vec<f64>> = (0..n)
        .into_par_iter()
        .map_init(
            || Box::new(ScratchF32::new()),
            |scratch, i| {
                f.forward(&pixels_to_f32(split.image(i)), scratch);
                scratch.pool2().iter().map(|&v| f64::from(v)).collect()
            },
        )
        .collect();
    let x = DMatrix::from_row_iterator(n, FLAT, rows.into_iter().flatten());
    Ok(x.tr_mul(&x) / n as f64)
}

/// GPTQ for `w` (`[rows][cols]`, `cols` = the Hessian's size), one scale per row (its largest
/// magnitude maps to 7). `damp` (0.01 in the paper) adds `damp · mean(diag H)` to the diagonal
/// so the inverse exists; inputs that are 0 on every calibration image get weight 0.
///
/// Per row, for the inputs `j` in order: `q_j = round(w_j / s)` (clamped to `[-7, 7]`), and the
/// error `(w_j − q_j·s) / U_jj` times row `j` of `U` is subtracted from the inputs after `j`,
/// where `U` is the upper Cholesky factor of `H⁻¹` (`H⁻¹ = Uᵀ·U`).
///
/// # Errors
/// If `H` (damped) is not positive definite.
pub fn gptq(w: &[f32], h: &DMatrix<f64>, damp: f64) -> Result<Int4Weights> {
    let cols = h.nrows();
    if cols == 0 || h.ncols() != cols || !w.len().is_multiple_of(cols) {
        bail!("GPTQ: {} weights do not form rows of {cols}", w.len());
    }
    let mut h = h.clone();
    let dead: Vec<bool> = (0..cols).map(|j| h[(j, j)] == 0.0).collect();
    for (j, &d) in dead.iter().enumerate() {
        if d {
            h[(j, j)] = 1.0;
        }
    }
    let mean_diag = h.diagonal().mean();
    for j in 0..cols {
        h[(j, j)] += damp * mean_diag;
    }
    let h_inv = h
        .cholesky()
        .context("GPTQ: the damped calibration Hessian is not positive definite")?
        .inverse();
    // H⁻¹ = L·Lᵀ, so U = Lᵀ: row j of U is column j of L, contiguous in nalgebra's column-major
    // storage.
    let l = h_inv
        .cholesky()
        .context("GPTQ: the inverse Hessian is not positive definite")?
        .unpack();
    let scales: Vec<f64> = w.chunks_exact(cols).map(row_scale).collect();
    let values = w
        .par_chunks_exact(cols)
        .zip(&scales)
        .flat_map_iter(|(row, &s)| {
            let mut w: Vec<f64> = row
                .iter()
                .zip(&dead)
                .map(|(&v, &d)| if d { 0.0 } else { f64::from(v) })
                .collect();
            let mut q = vec![0i8; cols];
            for j in 0..cols {
                let u = l.column(j);
                q[j] = level(w[j], s);
                let err = (w[j] - f64::from(q[j]) * s) / u[j];
                for k in j + 1..cols {
                    w[k] -= err * u[k];
                }
            }
            q
        })
        .collect();
    Ok(Int4Weights { values, scales })
}

/// fc1's int4 weights by the chosen rounding; GPTQ takes its Hessian from the first `count`
/// images of `calib`.
///
/// # Errors
/// As [`fc1_hessian`] and [`gptq`].
pub fn fc1_int4(
    params: &FlatParams,
    calib: &Split,
    count: usize,
    rounding: Rounding,
) -> Result<Int4Weights> {
    match rounding {
        Rounding::Nearest => Ok(round_to_nearest(&params.fc1_w, FLAT)),
        Rounding::Gptq => {
            let h = fc1_hessian(params, calib, count)?;
            gptq(&params.fc1_w, &h, 0.01)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random values in `[-1, 1)`.
    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
            })
            .collect()
    }

    #[test]
    fn nearest_rounds_each_weight_to_its_rows_levels() {
        let w = [0.7f32, -0.33, 0.12, 0.0, 1.4, -1.4, 0.13, 0.33];
        let q = round_to_nearest(&w, 4);
        assert!((q.scales[0] - 0.1).abs() < 1e-7 && (q.scales[1] - 0.2).abs() < 1e-7);
        assert_eq!(q.values, vec![7, -3, 1, 0, 7, -7, 1, 2]);
    }

    /// On correlated inputs GPTQ's outputs are closer to the float layer's than rounding to
    /// nearest: the whole point of it. Also checks the value range.
    #[test]
    fn gptq_beats_nearest_on_the_calibration_outputs() {
        let (n, d, rows) = (400, 24, 6);
        // Correlated inputs: x = A·z for a random mixing matrix A.
        let a = DMatrix::from_vec(d, d, noise(d * d, 1));
        let z = DMatrix::from_vec(d, n, noise(d * n, 2));
        let x = (&a * z).transpose(); // n × d
        let h = x.tr_mul(&x) / n as f64;
        let w: Vec<f32> = noise(rows * d, 3).iter().map(|&v| v as f32).collect();
        let err = |q: &Int4Weights| {
            let mut e = 0.0;
            for r in 0..rows {
                for i in 0..n {
                    let (mut exact, mut approx) = (0.0, 0.0);
                    for j in 0..d {
                        exact += f64::from(w[r * d + j]) * x[(i, j)];
                        approx += f64::from(q.values[r * d + j]) * q.scales[r] * x[(i, j)];
                    }
                    e += (exact - approx).powi(2);
                }
            }
            e
        };
        let nearest = round_to_nearest(&w, d);
        let g = gptq(&w, &h, 0.01).expect("gptq");
        assert!(g.values.iter().all(|&v| (-7..=7).contains(&v)));
        let (en, eg) = (err(&nearest), err(&g));
        assert!(eg < 0.8 * en, "GPTQ error {eg} vs nearest {en}");
    }
}
