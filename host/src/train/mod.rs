//! Training with burn: recipes and configuration (`config.rs`), the loop (`run.rs`),
//! per-epoch evaluation, checkpoints (`checkpoint.rs`) and the resumable state (`state.rs`).
//!
//! [`train_with`] stops on request with the typed [`TrainError::Interrupted`]; any other failure
//! is [`TrainError::Failed`].

mod checkpoint;
mod config;
#[cfg(feature = "wgpu")]
mod gpu;
mod run;
mod state;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

pub use checkpoint::{CheckpointMeta, load_checkpoint, load_meta, save_checkpoint};
pub use config::{Adapter, Backend, BackendError, Optimizer, Recipe, Schedule, TrainConfig};

use crate::data::{Mnist, Split};
use crate::model::{LeNet, logits};

/// What one epoch achieved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy (on augmented batches, during the epoch), 0..1.
    pub train_acc: f64,
    /// Test accuracy after the epoch, 0..1.
    pub test_acc: f64,
    /// Wall seconds of the training part of the epoch.
    pub seconds: f64,
    /// Where those seconds went (absent from checkpoints of older versions).
    #[serde(default)]
    pub phases: Phases,
}

/// Where an epoch's training time went, in seconds: wall time per phase of the steps, and the
/// process's CPU time (all threads) over the whole training part of the epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    /// Assembling batches: augmentation and input tensors.
    pub data: f64,
    /// Forward pass, loss and batch accuracy.
    pub forward: f64,
    /// Backward pass down to the parameter gradients.
    pub backward: f64,
    /// Optimizer update.
    pub optimizer: f64,
    /// Process CPU seconds, all threads.
    pub cpu: f64,
}

impl Phases {
    /// Adds `o`'s seconds to these.
    fn add(&mut self, o: &Phases) {
        self.data += o.data;
        self.forward += o.forward;
        self.backward += o.backward;
        self.optimizer += o.optimizer;
        self.cpu += o.cpu;
    }
}

/// How much the run prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// Nothing (tests).
    Quiet,
    /// Progress bars on a terminal, plain log lines otherwise.
    Normal,
}

/// Test accuracy (0..1) of `model` on `split`.
pub fn accuracy(model: &LeNet, split: &Split, device: &Device) -> f64 {
    if split.is_empty() {
        return 0.0;
    }
    let l = logits(model, &split.images, device);
    let correct = l
        .iter()
        .zip(&split.labels)
        .filter(|&(l, &y)| lenet_core::kernels::act::argmax_f32(&l[..]) == usize::from(y))
        .count();
    correct as f64 / split.len() as f64
}

/// Trains a fresh network on `data` and returns it (without autodiff) and the per-epoch stats.
///
/// The same config, data and backend give bit-identical weights.
///
/// # Errors
/// If the config is unusable (zero batch size or epochs).
pub fn train(
    cfg: &TrainConfig,
    data: &Mnist,
    device: &Device,
    verbosity: Verbosity,
) -> anyhow::Result<(LeNet, Vec<EpochStats>)> {
    let opts = TrainOptions {
        verbosity,
        checkpoint: None,
        resume: false,
        stop: None,
        backend: Backend::Flex,
    };
    // Without a stop flag the run cannot be interrupted; keep the error as it was made.
    train_with(cfg, data, device, &opts).map_err(|e| match e {
        TrainError::Failed(e) => e,
        e @ TrainError::Interrupted(_) => e.into(),
    })
}

/// How a training run saves, resumes and stops.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions<'a> {
    /// How much to print.
    pub verbosity: Verbosity,
    /// After every epoch, save the model to this path (plus `<path>.json` metadata and the
    /// resumable `<path>.state`), each atomically.
    pub checkpoint: Option<&'a Path>,
    /// Continue from `<checkpoint>.state` instead of starting afresh.
    pub resume: bool,
    /// Checked after every step; when set, training saves its exact position in the epoch to
    /// `<checkpoint>.state` and stops with [`TrainError::Interrupted`] (the last epoch's checkpoint
    /// stays).
    pub stop: Option<&'a AtomicBool>,
    /// Recorded in the checkpoint metadata.
    pub backend: Backend,
}

/// Training stopped on request before finishing.
#[derive(Debug, thiserror::Error)]
#[error(
    "training stopped after {epochs_done} complete epoch(s) and {steps_done} step(s) of the next; {}",
    if *saved { "the state is saved, continue with --resume" } else { "nothing to save to (no checkpoint path)" }
)]
pub struct Interrupted {
    /// Epochs completed.
    pub epochs_done: usize,
    /// Steps trained of the epoch that was stopped.
    pub steps_done: usize,
    /// Whether the position was saved for `--resume`.
    pub saved: bool,
}

/// Why [`train_with`] gave no network.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// Stopped on request (Ctrl-C) before finishing; the position is saved when there is a
    /// checkpoint path.
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
    /// Anything else: an unusable configuration, an unreadable or mismatched state when
    /// resuming, a failed checkpoint write.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// [`train`] with checkpointing, resuming and stopping.
///
/// # Errors
/// [`TrainError::Interrupted`] when `stop` was set; [`TrainError::Failed`] for an unusable
/// config, an unreadable or mismatched state when resuming, or a failed checkpoint write.
pub fn train_with(
    cfg: &TrainConfig,
    data: &Mnist,
    device: &Device,
    opts: &TrainOptions<'_>,
) -> Result<(LeNet, Vec<EpochStats>), TrainError> {
    if cfg.batch_size == 0 || cfg.epochs == 0 {
        return Err(anyhow::anyhow!("--batch-size and --epochs must be at least 1").into());
    }
    let (mut run, mut model) = run::Run::new(cfg, data, device, *opts);
    let started = Instant::now();
    if opts.resume {
        let path = opts
            .checkpoint
            .ok_or_else(|| anyhow::anyhow!("--resume needs the checkpoint path (--save-model)"))?;
        model = run.resume(path)?;
    }
    for epoch in run.first_epoch()..=cfg.epochs {
        model = run.epoch(epoch, model)?;
    }
    let history = run.finish(started.elapsed().as_secs_f64());
    Ok((model.valid(), history))
}
