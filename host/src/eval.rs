//! Accuracy, agreement and confusion matrices through `lenet-core`: the very kernels the
//! firmware runs.

use std::fmt;

use lenet_core::kernels::act::argmax_f32;
use lenet_core::shape::{CLASSES, F32_BATCH};
use lenet_core::{F32Model, I8Model, ScratchF32Batch, ScratchI8, pixels_to_f32};
use rayon::prelude::*;

use crate::data::{PIXELS, Split};

/// One image's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answer<T> {
    /// Predicted digit.
    pub digit: u8,
    /// Logits.
    pub logits: [T; CLASSES],
}

/// Fewest images a rayon job takes: each job builds one state (scratch buffers) with `make`.
const MIN_IMAGES_PER_JOB: usize = 16;

/// Runs `f` over every image of `split` on all cores (rayon's pool), keeping order. `make`
/// builds each job's state (its scratch buffers).
///
/// Every image is computed on its own, so the answers do not depend on the number of threads.
pub fn par_map<S, T: Send>(
    split: &Split,
    make: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, &[u8; PIXELS]) -> T + Sync + Send,
) -> Vec<T> {
    (0..split.len())
        .into_par_iter()
        .with_min_len(MIN_IMAGES_PER_JOB)
        .map_init(make, |state, i| f(state, split.image(i)))
        .collect()
}

/// int8 answers for every image.
pub fn run_int8(model: &I8Model<'_>, split: &Split) -> Vec<Answer<i8>> {
    par_map(
        split,
        || Box::new(ScratchI8::new()),
        |s, px| {
            let p = model.predict(px, s);
            Answer {
                digit: p.digit,
                logits: p.logits,
            }
        },
    )
}

/// Images per [`F32Model::forward_batch`] call in [`run_f32`] (a rayon job): one group. Jobs of
/// 256 images ran 1-3 % slower in three alternated runs of `host bench` (the 100 KB of
/// transposed conv weights per call cost nothing measurable).
const F32_IMAGES_PER_JOB: usize = F32_BATCH;

/// f32 answers for every image, bit for bit those of [`F32Model::forward`].
///
/// Jobs of [`F32_BATCH`] images run through [`F32Model::forward_batch`] (they share each read
/// of fc1's weights), the jobs in parallel on all cores; the answers are in image order and do
/// not depend on the number of threads.
pub fn run_f32(model: &F32Model<'_>, split: &Split) -> Vec<Answer<f32>> {
    let n = split.len();
    let jobs: Vec<Vec<Answer<f32>>> = (0..n.div_ceil(F32_IMAGES_PER_JOB))
        .into_par_iter()
        .map_init(ScratchF32Batch::boxed, |s, j| {
            let images = j * F32_IMAGES_PER_JOB..((j + 1) * F32_IMAGES_PER_JOB).min(n);
            let inputs: Vec<[f32; PIXELS]> =
                images.map(|i| pixels_to_f32(split.image(i))).collect();
            let mut logits = vec![[0f32; CLASSES]; inputs.len()];
            model.forward_batch(&inputs, s, &mut logits);
            logits
                .into_iter()
                .map(|l| Answer {
                    digit: argmax_f32(&l) as u8,
                    logits: l,
                })
                .collect()
        })
        .collect();
    jobs.into_iter().flatten().collect()
}

/// Accuracy and confusion matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `confusion[actual][predicted]`.
    pub confusion: [[u32; CLASSES]; CLASSES],
}

impl Report {
    /// Tallies predictions against labels.
    pub fn new(predicted: impl IntoIterator<Item = u8>, labels: &[u8]) -> Self {
        let mut confusion = [[0u32; CLASSES]; CLASSES];
        for (p, &y) in predicted.into_iter().zip(labels) {
            confusion[usize::from(y)][usize::from(p)] += 1;
        }
        Self { confusion }
    }

    /// Examples counted.
    pub fn total(&self) -> u32 {
        self.confusion.iter().flatten().sum()
    }

    /// Correct predictions.
    pub fn correct(&self) -> u32 {
        (0..CLASSES).map(|i| self.confusion[i][i]).sum()
    }

    /// Accuracy in percent.
    pub fn accuracy_pct(&self) -> f64 {
        100.0 * f64::from(self.correct()) / f64::from(self.total().max(1))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "accuracy: {:.2}% ({}/{})",
            self.accuracy_pct(),
            self.correct(),
            self.total()
        )?;
        writeln!(f, "confusion matrix (rows: actual, columns: predicted)")?;
        write!(f, "     ")?;
        for p in 0..CLASSES {
            write!(f, "{p:>6}")?;
        }
        writeln!(f)?;
        for (a, row) in self.confusion.iter().enumerate() {
            write!(f, "  {a}: ")?;
            for v in row {
                write!(f, "{v:>6}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// Fraction (0..1) of positions where two prediction lists agree.
pub fn agreement(a: &[u8], b: &[u8]) -> f64 {
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len().max(1) as f64
}
