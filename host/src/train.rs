//! Training with burn: recipes, the loop, per-epoch evaluation, checkpoints.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::optim::ModuleOptimizer;
use burn::{
    module::Module,
    nn::loss::CrossEntropyLossConfig,
    optim::{AdamConfig, GradientsParams, SgdConfig, momentum::MomentumConfig},
    prelude::*,
    store::ModuleRecord,
    tensor::Bytes,
};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{Mnist, PIXELS, Split};
use crate::model::{Act, LeNet, conv1_patches, logits};

/// Compute backend for burn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn-flex: the fast pure-Rust CPU backend (default).
    #[default]
    Flex,
    /// burn-ndarray: the older CPU backend (needs the `ndarray` feature; much slower to train).
    #[cfg(feature = "ndarray")]
    Ndarray,
    /// wgpu: Vulkan/Metal/DX12 GPUs (needs the `wgpu` feature).
    #[cfg(feature = "wgpu")]
    Wgpu,
    /// CUDA: NVIDIA GPUs (needs the `cuda` feature).
    #[cfg(feature = "cuda")]
    Cuda,
}

impl Backend {
    /// The burn device for this backend.
    pub fn device(self) -> Device {
        match self {
            Self::Flex => Device::flex(),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            Self::Ndarray => Device::ndarray(),
            #[cfg(feature = "wgpu")]
            Self::Wgpu => Device::wgpu(burn::tensor::DeviceKind::default()),
            #[cfg(feature = "cuda")]
            Self::Cuda => Device::cuda(0),
        }
    }
}

/// Optimizer choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// Plain SGD (the tutorial's).
    Sgd,
    /// SGD with momentum 0.9 (no dampening, as Keras).
    Momentum,
    /// Adam (beta 0.9/0.999).
    Adam,
}

/// Learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// The same rate every step.
    Constant,
    /// Cosine decay from the rate to 0 over all steps.
    Cosine,
}

/// A named set of hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipe {
    /// Adam 1e-3, cosine decay, random shifts of up to 2 pixels: the most accurate in 20 epochs.
    #[default]
    Best,
    /// The tutorial's: SGD 0.01, constant rate, no augmentation.
    Seed,
}

/// Everything that determines a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Examples per step.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Optimizer.
    pub optimizer: Optimizer,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Largest random shift (pixels, each axis) applied to training images; 0 disables it.
    pub max_shift: usize,
    /// Hidden-layer activation.
    pub activation: Act,
    /// Seed of the initialisation, the shuffling and the augmentation.
    pub seed: u64,
    /// Train on only the first N training images.
    pub train_limit: Option<usize>,
    /// Evaluate on only the first N test images.
    pub test_limit: Option<usize>,
}

impl TrainConfig {
    /// The hyper-parameters of `recipe`.
    pub fn recipe(recipe: Recipe) -> Self {
        let base = Self {
            epochs: 20,
            batch_size: 128,
            lr: 1e-3,
            optimizer: Optimizer::Adam,
            schedule: Schedule::Cosine,
            max_shift: 2,
            activation: Act::Relu,
            seed: 42,
            train_limit: None,
            test_limit: None,
        };
        match recipe {
            Recipe::Best => base,
            Recipe::Seed => Self {
                lr: 0.01,
                optimizer: Optimizer::Sgd,
                schedule: Schedule::Constant,
                max_shift: 0,
                ..base
            },
        }
    }
}

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

fn shifted(src: &[u8; PIXELS], dx: isize, dy: isize, out: &mut [u8]) {
    for y in 0..28isize {
        for x in 0..28isize {
            let (sx, sy) = (x - dx, y - dy);
            let v = if (0..28).contains(&sx) && (0..28).contains(&sy) {
                src[(sy * 28 + sx) as usize]
            } else {
                0
            };
            out[(y * 28 + x) as usize] = v;
        }
    }
}

fn optimizer(cfg: &TrainConfig) -> ModuleOptimizer {
    match cfg.optimizer {
        Optimizer::Sgd => SgdConfig::new().init(),
        Optimizer::Momentum => SgdConfig::new()
            .with_momentum(Some(
                MomentumConfig::new().with_momentum(0.9).with_dampening(0.0),
            ))
            .init(),
        Optimizer::Adam => AdamConfig::new().init(),
    }
}

fn lr_at(cfg: &TrainConfig, step: usize, total: usize) -> f64 {
    match cfg.schedule {
        Schedule::Constant => cfg.lr,
        Schedule::Cosine => {
            let t = step as f64 / total.max(1) as f64;
            cfg.lr * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
        }
    }
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
) -> Result<(LeNet, Vec<EpochStats>)> {
    let opts = TrainOptions {
        verbosity,
        checkpoint: None,
        resume: false,
        stop: None,
        backend: Backend::Flex,
    };
    train_with(cfg, data, device, &opts)
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
    /// `<checkpoint>.state` and stops with [`Interrupted`] (the last epoch's checkpoint stays).
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

/// Everything needed to continue a run exactly where an epoch ended.
#[derive(Debug, Serialize, Deserialize)]
struct ResumeMeta {
    config: TrainConfig,
    backend: Backend,
    history: Vec<EpochStats>,
    /// Position of the shuffling/augmentation random stream (ChaCha8 word position).
    rng_word_pos: String,
    /// The sample order of the last epoch begun (each epoch reshuffles the previous order).
    order: Vec<u32>,
    /// Progress inside an epoch stopped with Ctrl-C, to continue from the next step.
    partial: Option<PartialEpoch>,
}

/// Where a stopped epoch was left: `order` (in [`ResumeMeta`]) is its sample order, and its
/// first `steps_done` batches are trained.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PartialEpoch {
    epoch: usize,
    steps_done: usize,
    loss_sum: f64,
    correct: usize,
    seen: usize,
    seconds: f64,
    #[serde(default)]
    phases: Phases,
}

const STATE_MAGIC: &[u8; 8] = b"LNTSTAT1";

fn state_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".state");
    PathBuf::from(p)
}

/// Writes `<path>.state`: magic, then three length-prefixed (u64 LE) parts: JSON metadata, the
/// model record, the optimizer record. One file, written atomically, so it is always consistent.
fn save_state(path: &Path, meta: &ResumeMeta, model: &[u8], optim: &[u8]) -> Result<()> {
    let json = serde_json::to_vec(meta)?;
    let sp = state_path(path);
    crate::io::write_atomic_with(&sp, |f| {
        use std::io::Write;
        f.write_all(STATE_MAGIC)?;
        for part in [&json[..], model, optim] {
            f.write_all(&(part.len() as u64).to_le_bytes())?;
            f.write_all(part)?;
        }
        Ok(())
    })
    .with_context(|| format!("writing {}", sp.display()))
}

fn load_state(path: &Path) -> Result<(ResumeMeta, Vec<u8>, Vec<u8>)> {
    let sp = state_path(path);
    let bytes = std::fs::read(&sp)
        .with_context(|| format!("reading {} (nothing to resume?)", sp.display()))?;
    let bad = || anyhow::anyhow!("{} is not a training state file", sp.display());
    let mut rest = bytes.strip_prefix(STATE_MAGIC.as_slice()).ok_or_else(bad)?;
    let mut parts = Vec::with_capacity(3);
    for _ in 0..3 {
        let (len, tail) = rest.split_first_chunk::<8>().ok_or_else(bad)?;
        let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| bad())?;
        if len > tail.len() {
            return Err(bad());
        }
        let (part, tail) = tail.split_at(len);
        parts.push(part.to_vec());
        rest = tail;
    }
    let optim = parts.pop().ok_or_else(bad)?;
    let model = parts.pop().ok_or_else(bad)?;
    let meta: ResumeMeta =
        serde_json::from_slice(&parts.pop().ok_or_else(bad)?).with_context(bad)?;
    Ok((meta, model, optim))
}

/// [`train`] with checkpointing, resuming and stopping.
///
/// # Errors
/// An unusable config, an unreadable or mismatched state when resuming, a failed checkpoint
/// write, or [`Interrupted`] when `stop` was set.
pub fn train_with(
    cfg: &TrainConfig,
    data: &Mnist,
    device: &Device,
    opts: &TrainOptions<'_>,
) -> Result<(LeNet, Vec<EpochStats>)> {
    let verbosity = opts.verbosity;
    if cfg.batch_size == 0 || cfg.epochs == 0 {
        bail!("--batch-size and --epochs must be at least 1");
    }
    let train = match cfg.train_limit {
        Some(n) => data.train.take(n),
        None => data.train.clone(),
    };
    let test = match cfg.test_limit {
        Some(n) => data.test.take(n),
        None => data.test.clone(),
    };
    device.seed(cfg.seed);
    let ad = device.clone().autodiff();
    let mut model = LeNet::new(cfg.activation, &ad);
    let mut optim = optimizer(cfg);
    let loss_fn = CrossEntropyLossConfig::new().init(&ad);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let steps_per_epoch = train.len().div_ceil(cfg.batch_size);
    let total_steps = steps_per_epoch * cfg.epochs;
    let tty = std::io::stdout().is_terminal();
    let mut history = Vec::with_capacity(cfg.epochs);
    let mut order: Vec<u32> = (0..train.len() as u32).collect();
    let mut partial: Option<PartialEpoch> = None;
    let mut batch = vec![0u8; cfg.batch_size * PIXELS];
    let started = Instant::now();
    if opts.resume {
        let path = opts
            .checkpoint
            .context("--resume needs the checkpoint path (--save-model)")?;
        let (meta, model_bytes, optim_bytes) = load_state(path)?;
        if meta.config != *cfg {
            bail!(
                "{} was trained with a different configuration ({:?}); resume with the same flags",
                state_path(path).display(),
                meta.config
            );
        }
        let record =
            ModuleRecord::from_bytes(Bytes::from_bytes_vec(model_bytes)).context("model state")?;
        model = LeNet::new(cfg.activation, &ad)
            .try_load_record(record)
            .context("model state")?;
        optim = optimizer(cfg)
            .from_bytes(Bytes::from_bytes_vec(optim_bytes))
            .context("optimizer state")?;
        rng.set_word_pos(
            meta.rng_word_pos
                .parse::<u128>()
                .context("random stream position")?,
        );
        if meta.order.len() != order.len() {
            bail!(
                "{} does not match the training set",
                state_path(path).display()
            );
        }
        order = meta.order;
        history = meta.history;
        partial = meta.partial;
        if verbosity == Verbosity::Normal {
            match &partial {
                Some(p) => println!(
                    "resuming epoch {} of {} at step {} of {steps_per_epoch}",
                    p.epoch, cfg.epochs, p.steps_done
                ),
                None => println!("resuming after epoch {} of {}", history.len(), cfg.epochs),
            }
        }
    }
    // Saves the model, the optimizer and the exact position in the run to `<checkpoint>.state`.
    let save_resume = |model: &LeNet,
                       optim: &ModuleOptimizer,
                       history: &[EpochStats],
                       order: &[u32],
                       rng: &ChaCha8Rng,
                       partial: Option<PartialEpoch>|
     -> Result<bool> {
        let Some(path) = opts.checkpoint else {
            return Ok(false);
        };
        let resume = ResumeMeta {
            config: cfg.clone(),
            backend: opts.backend,
            history: history.to_vec(),
            rng_word_pos: rng.get_word_pos().to_string(),
            order: order.to_vec(),
            partial,
        };
        let model_bytes = model
            .clone()
            .into_record()
            .into_bytes()
            .context("serialising the model")?;
        let optim_bytes = optim.into_bytes().context("serialising the optimizer")?;
        save_state(path, &resume, &model_bytes, &optim_bytes)?;
        Ok(true)
    };
    let first_epoch = history.len() + 1;

    for epoch in first_epoch..=cfg.epochs {
        let resumed = partial.take().filter(|p| p.epoch == epoch);
        if resumed.is_none() {
            order.shuffle(&mut rng);
        }
        let bar = (verbosity == Verbosity::Normal && tty).then(|| {
            let bar = ProgressBar::new(steps_per_epoch as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "epoch {prefix:>2} [{bar:30}] {pos}/{len} {msg} ({elapsed}<{eta})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("{epoch}/{}", cfg.epochs));
            bar
        });
        let t0 = Instant::now();
        let cpu0 = cpu_time::ProcessTime::try_now().ok();
        let (first_step, mut loss_sum, mut correct, mut seen, earlier_seconds) = match &resumed {
            Some(p) => (p.steps_done, p.loss_sum, p.correct, p.seen, p.seconds),
            None => (0, 0.0f64, 0usize, 0usize, 0.0),
        };
        let mut phases = resumed.as_ref().map_or_else(Phases::default, |p| p.phases);
        let cpu_since = |p: &Phases| {
            let mut p = *p;
            p.cpu += cpu0.map_or(0.0, |c| c.elapsed().as_secs_f64());
            p
        };
        if let Some(bar) = &bar {
            bar.set_position(first_step as u64);
        }
        for (step, idx) in order.chunks(cfg.batch_size).enumerate().skip(first_step) {
            let n = idx.len();
            let ta = Instant::now();
            for (slot, &i) in batch.chunks_exact_mut(PIXELS).zip(idx) {
                let i = i as usize;
                let (dx, dy) = if cfg.max_shift > 0 {
                    let s = cfg.max_shift as i32;
                    (
                        rng.random_range(-s..=s) as isize,
                        rng.random_range(-s..=s) as isize,
                    )
                } else {
                    (0, 0)
                };
                shifted(train.image(i), dx, dy, slot);
            }
            let x = conv1_patches(&batch[..n * PIXELS], &ad);
            let labels: Vec<i64> = idx
                .iter()
                .map(|&i| i64::from(train.labels[i as usize]))
                .collect();
            let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [n]), &ad);
            let tb = Instant::now();
            let out = model.forward(x);
            let loss = loss_fn.forward(out.clone(), y.clone());
            let hits = out
                .argmax(1)
                .squeeze_dim::<1>(1)
                .equal(y)
                .int()
                .sum()
                .into_scalar::<i64>();
            let loss_value = f64::from(loss.clone().into_scalar::<f32>());
            let tc = Instant::now();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let td = Instant::now();
            let lr = lr_at(cfg, (epoch - 1) * steps_per_epoch + step, total_steps);
            model = optim.step(lr, model, grads);
            let te = Instant::now();
            phases.add(&Phases {
                data: (tb - ta).as_secs_f64(),
                forward: (tc - tb).as_secs_f64(),
                backward: (td - tc).as_secs_f64(),
                optimizer: (te - td).as_secs_f64(),
                cpu: 0.0,
            });
            loss_sum += loss_value * n as f64;
            correct += hits as usize;
            seen += n;
            if opts.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                if let Some(bar) = &bar {
                    bar.abandon();
                }
                let here = PartialEpoch {
                    epoch,
                    steps_done: step + 1,
                    loss_sum,
                    correct,
                    seen,
                    seconds: earlier_seconds + t0.elapsed().as_secs_f64(),
                    phases: cpu_since(&phases),
                };
                let saved =
                    save_resume(&model.valid(), &optim, &history, &order, &rng, Some(here))?;
                return Err(Interrupted {
                    epochs_done: history.len(),
                    steps_done: step + 1,
                    saved,
                }
                .into());
            }
            let (mean_loss, acc) = (loss_sum / seen as f64, correct as f64 / seen as f64);
            if let Some(bar) = &bar {
                bar.set_message(format!("loss {mean_loss:.4} acc {:.2}%", acc * 100.0));
                bar.inc(1);
            } else if verbosity == Verbosity::Normal
                && (step + 1) % (steps_per_epoch / 5).max(1) == 0
                && step + 1 != steps_per_epoch
            {
                println!(
                    "epoch {epoch}/{} step {}/{steps_per_epoch}: loss {mean_loss:.4} acc {:.2}%",
                    cfg.epochs,
                    step + 1,
                    acc * 100.0
                );
            }
        }
        let seconds = earlier_seconds + t0.elapsed().as_secs_f64();
        let phases = cpu_since(&phases);
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let test_acc = accuracy(&model.valid(), &test, device);
        let stats = EpochStats {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_acc: correct as f64 / seen.max(1) as f64,
            test_acc,
            seconds,
            phases,
        };
        if verbosity == Verbosity::Normal {
            println!(
                "epoch {epoch:>2}/{}: loss {:.4}  train acc {:.2}%  test acc {:.2}%  ({seconds:.1} s)",
                cfg.epochs,
                stats.train_loss,
                stats.train_acc * 100.0,
                stats.test_acc * 100.0
            );
        }
        history.push(stats);
        if let Some(path) = opts.checkpoint {
            let valid = model.valid();
            let meta = CheckpointMeta {
                config: cfg.clone(),
                history: history.clone(),
                backend: opts.backend,
            };
            save_checkpoint(&valid, &meta, path)?;
            save_resume(&valid, &optim, &history, &order, &rng, None)?;
        }
    }
    if verbosity == Verbosity::Normal {
        let wall = started.elapsed().as_secs_f64();
        let last = history.last().map_or(0.0, |s| s.test_acc);
        println!(
            "trained {} epochs in {:.1} s ({:.1} s per epoch); final test accuracy {:.2}%",
            cfg.epochs,
            wall,
            wall / cfg.epochs as f64,
            last * 100.0
        );
        let mut total = Phases::default();
        for h in &history {
            total.add(&h.phases);
        }
        let n = history.len().max(1) as f64;
        println!(
            "per epoch: {:.1} CPU-s; wall {:.1} s data, {:.1} s forward, {:.1} s backward, {:.1} s optimizer",
            total.cpu / n,
            total.data / n,
            total.forward / n,
            total.backward / n,
            total.optimizer / n
        );
    }
    Ok((model.valid(), history))
}

/// Metadata stored beside a checkpoint (`<checkpoint>.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// The configuration that trained the weights.
    pub config: TrainConfig,
    /// Per-epoch statistics.
    pub history: Vec<EpochStats>,
    /// The backend that trained it.
    pub backend: Backend,
}

fn meta_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".json");
    PathBuf::from(p)
}

/// Saves `model` as a burnpack checkpoint at `path` and its metadata at `path.json`, atomically.
///
/// # Errors
/// Serialisation or I/O failures.
pub fn save_checkpoint(model: &LeNet, meta: &CheckpointMeta, path: &Path) -> Result<()> {
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .context("serialising the checkpoint")?;
    crate::io::write_atomic(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    let json = serde_json::to_vec_pretty(meta)?;
    let mp = meta_path(path);
    crate::io::write_atomic(&mp, &json).with_context(|| format!("writing {}", mp.display()))?;
    Ok(())
}

/// Reads the metadata (`<checkpoint>.json`) of a checkpoint.
///
/// # Errors
/// A missing or malformed metadata file.
pub fn load_meta(path: &Path) -> Result<CheckpointMeta> {
    let mp = meta_path(path);
    let j = std::fs::read(&mp).with_context(|| format!("reading {}", mp.display()))?;
    serde_json::from_slice(&j).with_context(|| format!("parsing {}", mp.display()))
}

/// Loads a checkpoint written by [`save_checkpoint`]. The activation comes from the metadata
/// file when present, else from `fallback`.
///
/// # Errors
/// A missing or unreadable file, or one that does not hold this network.
pub fn load_checkpoint(
    path: &Path,
    fallback: Act,
    device: &Device,
) -> Result<(LeNet, Option<CheckpointMeta>)> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading checkpoint {}", path.display()))?;
    let meta: Option<CheckpointMeta> = match std::fs::read(meta_path(path)) {
        Ok(j) => Some(serde_json::from_slice(&j).context("parsing checkpoint metadata")?),
        Err(_) => None,
    };
    let act = meta.as_ref().map_or(fallback, |m| m.config.activation);
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .with_context(|| format!("{} is not a burnpack checkpoint", path.display()))?;
    let model = LeNet::new(act, device)
        .try_load_record(record)
        .with_context(|| format!("{} does not hold this network's weights", path.display()))?;
    Ok((model, meta))
}
