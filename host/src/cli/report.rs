//! What `train --export`, `quantize` and `eval` print about a blob, and the export they share.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use host::data::Split;
use host::eval::{self, Report};
use host::export::{self, AlignedBlob};
use host::model::{FlatParams, LeNet};
use host::quantize::{self, Int8Options, Precision};
use lenet_core::Model;

use super::source::EvalPrecision;

/// Builds the blob of `model` (int8 calibrated on the first `calibration` images of `calib`),
/// writes it to `path` and reports what lenet-core gets from it on `test`.
///
/// # Errors
/// A failed quantization or write, or a blob that does not parse back.
pub fn export_blob(
    model: &LeNet,
    path: &Path,
    precision: Precision,
    calib: &Split,
    options: &Int8Options,
    test: &Split,
) -> Result<()> {
    let params = FlatParams::from_model(model);
    let t = Instant::now();
    let bytes = quantize::build_blob(&params, precision, calib, options)?;
    export::write_blob(path, &bytes)?;
    println!(
        "exported {} ({} bytes, {:?}) in {:.1} s",
        path.display(),
        bytes.len(),
        precision,
        t.elapsed().as_secs_f64()
    );
    let blob = AlignedBlob::new(&bytes);
    let m = Model::parse(blob.bytes()).map_err(|e| anyhow!("exported blob does not parse: {e}"))?;
    report_blob(&m, test, None).map(|_| ())
}

/// Prints the accuracy and confusion matrix of the chosen model of a blob (default: int8 when
/// present) and, when the blob carries both models, the other's accuracy and their agreement.
/// Returns the chosen model's name and report.
///
/// # Errors
/// A blob without the chosen model.
pub fn report_blob(
    m: &Model<'_>,
    test: &Split,
    only: Option<EvalPrecision>,
) -> Result<(&'static str, Report)> {
    let chosen = match only {
        Some(p) => p,
        None if m.int8().is_some() => EvalPrecision::Int8,
        None => EvalPrecision::F32,
    };
    let f32_digits: Option<Vec<u8>> = m
        .f32()
        .map(|f| eval::run_f32(f, test).iter().map(|a| a.digit).collect());
    let i8_digits: Option<Vec<u8>> = m
        .int8()
        .map(|q| eval::run_int8(q, test).iter().map(|a| a.digit).collect());
    let (name, main) = match chosen {
        EvalPrecision::Int8 => ("int8", i8_digits.as_ref()),
        EvalPrecision::F32 => ("f32", f32_digits.as_ref()),
    };
    let main = main.with_context(|| format!("the blob does not carry the {name} model"))?;
    let report = Report::new(main.iter().copied(), &test.labels);
    print!("lenet-core {name} on {} test images: {report}", test.len());
    if let (Some(a), Some(b)) = (&f32_digits, &i8_digits) {
        let agree = eval::agreement(a, b);
        let rf = Report::new(a.iter().copied(), &test.labels).accuracy_pct();
        let rq = Report::new(b.iter().copied(), &test.labels).accuracy_pct();
        println!(
            "f32 {rf:.2}%  int8 {rq:.2}%  (int8 - f32: {:+.2} pp)  f32/int8 agreement {:.2}% ({} of {} differ)",
            rq - rf,
            agree * 100.0,
            a.iter().zip(b).filter(|(x, y)| x != y).count(),
            test.len()
        );
    }
    Ok((name, report))
}

/// The first `limit` examples of `split`, or all of them.
pub fn limited(split: Split, limit: Option<usize>) -> Split {
    match limit {
        Some(n) => split.take(n),
        None => split,
    }
}
