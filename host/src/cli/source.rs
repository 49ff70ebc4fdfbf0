//! The model a command runs: a weight blob (`--weights`, through lenet-core) or a burn
//! checkpoint (`--load-model`), exactly one of them (a clap group).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use clap::Args;
use host::data::Split;
use host::eval;
use host::export::{self, AlignedBlob};
use host::model::Act;
use host::train::{self, Backend};
use lenet_core::Model;

/// `--weights BLOB` or `--load-model CHECKPOINT`, with the options of each.
#[derive(Args, Clone)]
pub struct ModelSource {
    /// Which file holds the model.
    #[command(flatten)]
    pub input: ModelInput,
    /// Which model of a blob to run (default: int8 when present).
    #[arg(long, value_enum, conflicts_with = "load_model")]
    pub precision: Option<EvalPrecision>,
    /// Backend for checkpoints.
    #[arg(long, value_enum, default_value_t = Backend::Flex, conflicts_with = "weights")]
    pub backend: Backend,
}

/// Exactly one of a blob and a checkpoint.
#[derive(Args, Clone)]
#[group(required = true, multiple = false)]
pub struct ModelInput {
    /// A weight blob (from `train --export` or `quantize`).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// A burn checkpoint (from `train --save-model`).
    #[arg(long)]
    pub load_model: Option<PathBuf>,
}

/// Which model of a blob to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalPrecision {
    /// The integer-only model.
    Int8,
    /// The float model.
    F32,
}

/// A [`ModelSource`] resolved: what to load and how.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A blob, run by lenet-core.
    Blob {
        /// The blob file.
        path: &'a Path,
        /// The model to run (default: int8 when present).
        precision: Option<EvalPrecision>,
    },
    /// A checkpoint, run by burn.
    Checkpoint {
        /// The checkpoint file.
        path: &'a Path,
        /// The backend to run it on.
        backend: Backend,
    },
}

impl ModelSource {
    /// The blob or the checkpoint that was given.
    pub fn source(&self) -> Source<'_> {
        match (&self.input.weights, &self.input.load_model) {
            (Some(path), _) => Source::Blob {
                path,
                precision: self.precision,
            },
            (None, Some(path)) => Source::Checkpoint {
                path,
                backend: self.backend,
            },
            (None, None) => unreachable!("the clap group requires --weights or --load-model"),
        }
    }
}

impl Source<'_> {
    /// The model file.
    pub fn path(&self) -> &Path {
        match self {
            Self::Blob { path, .. } | Self::Checkpoint { path, .. } => path,
        }
    }

    /// Predicted digit and softmax probabilities for each image.
    ///
    /// # Errors
    /// An unreadable model, or a blob without the requested model.
    pub fn predictions(&self, images: &Split) -> Result<Vec<(u8, [f32; 10])>> {
        fn softmax(l: [f32; 10]) -> [f32; 10] {
            let m = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            let e = l.map(|v| (v - m).exp());
            let s: f32 = e.iter().sum();
            e.map(|v| v / s)
        }
        match *self {
            Self::Blob { path, precision } => {
                let blob = export::read_blob(path)?;
                let m = parse_blob(&blob, path)?;
                let use_int8 = match precision {
                    Some(EvalPrecision::Int8) => true,
                    Some(EvalPrecision::F32) => false,
                    None => m.int8().is_some(),
                };
                if use_int8 {
                    let q = m.int8().context("the blob has no int8 model")?;
                    let (s, zp) = (q.scales()[4], q.zero_points[4]);
                    Ok(eval::run_int8(q, images)
                        .into_iter()
                        .map(|a| {
                            (
                                a.digit,
                                softmax(a.logits.map(|v| s * (i32::from(v) - zp) as f32)),
                            )
                        })
                        .collect())
                } else {
                    let f = m.f32().context("the blob has no f32 model")?;
                    Ok(eval::run_f32(f, images)
                        .into_iter()
                        .map(|a| (a.digit, softmax(a.logits)))
                        .collect())
                }
            }
            Self::Checkpoint { path, backend } => {
                let device = backend.device()?;
                let (model, _) = train::load_checkpoint(path, Act::Relu, &device)?;
                Ok(host::model::logits(&model, &images.images, &device)
                    .into_iter()
                    .map(|l| (lenet_core::kernels::act::argmax_f32(&l) as u8, softmax(l)))
                    .collect())
            }
        }
    }
}

/// Parses a blob read from `path` (named in the error).
///
/// # Errors
/// A malformed blob.
pub fn parse_blob<'b>(blob: &'b AlignedBlob, path: &Path) -> Result<Model<'b>> {
    Model::parse(blob.bytes()).map_err(|e| anyhow!("{}: {e}", path.display()))
}
