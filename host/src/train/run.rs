//! The training loop: a [`Run`] holds everything of a run but the network, which each step
//! takes and gives back (burn's optimizer consumes it), so an epoch is `model = run.epoch(..)`.
//!
//! Reproducibility rests on the order of the random draws, which this file fixes: the device
//! is seeded before the network is initialised; the shuffling/augmentation stream reshuffles
//! the previous order at the start of every epoch (not of a resumed one) and draws two shifts
//! per image when augmentation is on. A resumed run restores that stream's position, the order
//! and the records, so it continues with exactly the draws the uninterrupted run makes.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::{
    module::Module,
    nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig},
    optim::{GradientsParams, ModuleOptimizer},
    prelude::*,
    store::ModuleRecord,
    tensor::Bytes,
};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;

use super::config::{lr_at, optimizer};
use super::state::{self, PartialEpoch, ResumeMeta};
use super::{
    Backend, CheckpointMeta, EpochStats, Interrupted, Phases, TrainConfig, TrainError,
    TrainOptions, Verbosity, accuracy, save_checkpoint,
};
use crate::data::{Mnist, PIXELS, Split};
use crate::model::{LeNet, conv1_patches};

/// A run in progress, without its network.
pub(super) struct Run<'a> {
    cfg: &'a TrainConfig,
    opts: TrainOptions<'a>,
    /// The device the test accuracy is measured on.
    device: &'a Device,
    /// `device` with autodiff, for training.
    ad: Device,
    train: Split,
    test: Split,
    optim: ModuleOptimizer,
    loss_fn: CrossEntropyLoss,
    /// Shuffling and augmentation.
    rng: ChaCha8Rng,
    /// Sample order of the current epoch.
    order: Vec<u32>,
    /// Statistics of the complete epochs.
    history: Vec<EpochStats>,
    /// Where a resumed run stopped inside an epoch.
    partial: Option<PartialEpoch>,
    /// One batch of (augmented) images.
    batch: Vec<u8>,
    steps_per_epoch: usize,
    total_steps: usize,
    /// Whether progress bars are drawn.
    tty: bool,
}

impl<'a> Run<'a> {
    /// A fresh run and its freshly initialised network: seeds the device, then initialises
    /// network, optimizer and random stream.
    pub(super) fn new(
        cfg: &'a TrainConfig,
        data: &Mnist,
        device: &'a Device,
        opts: TrainOptions<'a>,
    ) -> (Self, LeNet) {
        let train = match cfg.train_limit {
            Some(n) => data.train.take(n),
            None => data.train.clone(),
        };
        let test = match cfg.test_limit {
            Some(n) => data.test.take(n),
            None => data.test.clone(),
        };
        let ad = device.clone().autodiff();
        let model = initial_network(cfg, opts.backend, device, &ad);
        let optim = optimizer(cfg);
        let loss_fn = CrossEntropyLossConfig::new().init(&ad);
        let rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let steps_per_epoch = train.len().div_ceil(cfg.batch_size);
        let run = Self {
            cfg,
            opts,
            device,
            ad,
            order: (0..train.len() as u32).collect(),
            train,
            test,
            optim,
            loss_fn,
            rng,
            history: Vec::with_capacity(cfg.epochs),
            partial: None,
            batch: vec![0u8; cfg.batch_size * PIXELS],
            steps_per_epoch,
            total_steps: steps_per_epoch * cfg.epochs,
            tty: std::io::stdout().is_terminal(),
        };
        (run, model)
    }

    /// Continues from `<checkpoint>.state`: restores the optimizer, the random stream, the
    /// order, the history and the position in a stopped epoch, and returns the saved network.
    ///
    /// # Errors
    /// A missing or malformed state, or one saved with another configuration or training set.
    pub(super) fn resume(&mut self, checkpoint: &Path) -> Result<LeNet> {
        let saved = state::load_state(checkpoint)?;
        let meta = saved.meta;
        let cfg = self.cfg;
        if meta.config != *cfg {
            bail!(
                "{} was trained with a different configuration ({:?}); resume with the same flags",
                state::state_path(checkpoint).display(),
                meta.config
            );
        }
        let record =
            ModuleRecord::from_bytes(Bytes::from_bytes_vec(saved.model)).context("model state")?;
        let model = LeNet::new(cfg.activation, &self.ad)
            .try_load_record(record)
            .context("model state")?;
        self.optim = optimizer(cfg)
            .from_bytes(Bytes::from_bytes_vec(saved.optim))
            .context("optimizer state")?;
        self.rng.set_word_pos(
            meta.rng_word_pos
                .parse::<u128>()
                .context("random stream position")?,
        );
        if meta.order.len() != self.order.len() {
            bail!(
                "{} does not match the training set",
                state::state_path(checkpoint).display()
            );
        }
        self.order = meta.order;
        self.history = meta.history;
        self.partial = meta.partial;
        if self.opts.verbosity == Verbosity::Normal {
            match &self.partial {
                Some(p) => println!(
                    "resuming epoch {} of {} at step {} of {}",
                    p.epoch, cfg.epochs, p.steps_done, self.steps_per_epoch
                ),
                None => println!(
                    "resuming after epoch {} of {}",
                    self.history.len(),
                    cfg.epochs
                ),
            }
        }
        Ok(model)
    }

    /// The first epoch still to train (1-based).
    pub(super) fn first_epoch(&self) -> usize {
        self.history.len() + 1
    }

    /// Trains epoch `epoch` (or the rest of it, when resumed inside it), measures the test
    /// accuracy and, with a checkpoint path, saves the checkpoint and the state.
    ///
    /// # Errors
    /// [`TrainError::Interrupted`] when the stop flag was set during the epoch (after saving the
    /// position); [`TrainError::Failed`] when a save fails.
    pub(super) fn epoch(&mut self, epoch: usize, mut model: LeNet) -> Result<LeNet, TrainError> {
        let resumed = self.partial.take().filter(|p| p.epoch == epoch);
        if resumed.is_none() {
            self.order.shuffle(&mut self.rng);
        }
        // `tally.seconds` and `tally.phases.cpu` hold what earlier sessions spent on this epoch.
        let mut tally = resumed.unwrap_or_else(|| PartialEpoch::start(epoch));
        let bar = self.progress_bar(epoch);
        let clock = Clock::start();
        if let Some(bar) = &bar {
            bar.set_position(tally.steps_done as u64);
        }
        for step in tally.steps_done..self.steps_per_epoch {
            model = self.step(model, epoch, step, &mut tally);
            if self.opts.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                if let Some(bar) = &bar {
                    bar.abandon();
                }
                let saved = self.save_state(&model.valid(), Some(clock.stamp(&tally)))?;
                return Err(Interrupted {
                    epochs_done: self.history.len(),
                    steps_done: tally.steps_done,
                    saved,
                }
                .into());
            }
            self.report_step(bar.as_ref(), epoch, &tally);
        }
        let done = clock.stamp(&tally);
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        self.end_epoch(&model.valid(), &done)?;
        Ok(model)
    }

    /// One batch: assembles (and augments) it, runs forward and backward passes and the
    /// optimizer, and adds the loss, hits and phase times to `tally`.
    fn step(&mut self, model: LeNet, epoch: usize, step: usize, tally: &mut PartialEpoch) -> LeNet {
        let cfg = self.cfg;
        let start = step * cfg.batch_size;
        let idx = &self.order[start..(start + cfg.batch_size).min(self.order.len())];
        let n = idx.len();
        let ta = Instant::now();
        for (slot, &i) in self.batch.chunks_exact_mut(PIXELS).zip(idx) {
            let (dx, dy) = if cfg.max_shift > 0 {
                let s = cfg.max_shift as i32;
                (
                    self.rng.random_range(-s..=s) as isize,
                    self.rng.random_range(-s..=s) as isize,
                )
            } else {
                (0, 0)
            };
            shifted(self.train.image(i as usize), dx, dy, slot);
        }
        let x = conv1_patches(&self.batch[..n * PIXELS], &self.ad);
        let labels: Vec<i64> = idx
            .iter()
            .map(|&i| i64::from(self.train.labels[i as usize]))
            .collect();
        let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [n]), &self.ad);
        let tb = Instant::now();
        let out = model.forward(x);
        let loss = self.loss_fn.forward(out.clone(), y.clone());
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
        let lr = lr_at(
            cfg,
            (epoch - 1) * self.steps_per_epoch + step,
            self.total_steps,
        );
        let model = self.optim.step(lr, model, grads);
        let te = Instant::now();
        tally.phases.add(&Phases {
            data: (tb - ta).as_secs_f64(),
            forward: (tc - tb).as_secs_f64(),
            backward: (td - tc).as_secs_f64(),
            optimizer: (te - td).as_secs_f64(),
            cpu: 0.0,
        });
        tally.loss_sum += loss_value * n as f64;
        tally.correct += hits as usize;
        tally.seen += n;
        tally.steps_done = step + 1;
        model
    }

    /// The epoch's progress bar, on a terminal at normal verbosity.
    fn progress_bar(&self, epoch: usize) -> Option<ProgressBar> {
        (self.opts.verbosity == Verbosity::Normal && self.tty).then(|| {
            let bar = ProgressBar::new(self.steps_per_epoch as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "epoch {prefix:>2} [{bar:30}] {pos}/{len} {msg} ({elapsed}<{eta})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("{epoch}/{}", self.cfg.epochs));
            bar
        })
    }

    /// Running loss and accuracy after a step: on the bar, or in a log line every fifth of an
    /// epoch (but not at its end, which gets its own line).
    fn report_step(&self, bar: Option<&ProgressBar>, epoch: usize, tally: &PartialEpoch) {
        let (mean_loss, acc) = (
            tally.loss_sum / tally.seen as f64,
            tally.correct as f64 / tally.seen as f64,
        );
        let (done, per_epoch) = (tally.steps_done, self.steps_per_epoch);
        if let Some(bar) = bar {
            bar.set_message(format!("loss {mean_loss:.4} acc {:.2}%", acc * 100.0));
            bar.inc(1);
        } else if self.opts.verbosity == Verbosity::Normal
            && done % (per_epoch / 5).max(1) == 0
            && done != per_epoch
        {
            println!(
                "epoch {epoch}/{} step {done}/{per_epoch}: loss {mean_loss:.4} acc {:.2}%",
                self.cfg.epochs,
                acc * 100.0
            );
        }
    }

    /// Records a finished epoch (`done`: its totals, timed): test accuracy, log line, history,
    /// and with a checkpoint path the checkpoint and the state.
    fn end_epoch(&mut self, model: &LeNet, done: &PartialEpoch) -> Result<()> {
        let (epoch, seconds) = (done.epoch, done.seconds);
        let test_acc = accuracy(model, &self.test, self.device);
        let stats = EpochStats {
            epoch,
            train_loss: done.loss_sum / done.seen.max(1) as f64,
            train_acc: done.correct as f64 / done.seen.max(1) as f64,
            test_acc,
            seconds,
            phases: done.phases,
        };
        if self.opts.verbosity == Verbosity::Normal {
            println!(
                "epoch {epoch:>2}/{}: loss {:.4}  train acc {:.2}%  test acc {:.2}%  ({seconds:.1} s)",
                self.cfg.epochs,
                stats.train_loss,
                stats.train_acc * 100.0,
                stats.test_acc * 100.0
            );
        }
        self.history.push(stats);
        if let Some(path) = self.opts.checkpoint {
            let meta = CheckpointMeta {
                config: self.cfg.clone(),
                history: self.history.clone(),
                backend: self.opts.backend,
            };
            save_checkpoint(model, &meta, path)?;
            self.save_state(model, None)?;
        }
        Ok(())
    }

    /// Saves the network, the optimizer and the exact position in the run (`partial`: inside a
    /// stopped epoch) to `<checkpoint>.state`; `false` when there is no checkpoint path.
    fn save_state(&self, model: &LeNet, partial: Option<PartialEpoch>) -> Result<bool> {
        let Some(path) = self.opts.checkpoint else {
            return Ok(false);
        };
        let meta = ResumeMeta {
            config: self.cfg.clone(),
            backend: self.opts.backend,
            history: self.history.clone(),
            rng_word_pos: self.rng.get_word_pos().to_string(),
            order: self.order.clone(),
            partial,
        };
        let model_bytes = model
            .clone()
            .into_record()
            .into_bytes()
            .context("serialising the model")?;
        let optim_bytes = self
            .optim
            .into_bytes()
            .context("serialising the optimizer")?;
        state::save_state(path, &meta, &model_bytes, &optim_bytes)?;
        Ok(true)
    }

    /// Ends the run: at normal verbosity prints wall time (`wall` seconds), final accuracy and
    /// the mean time split per epoch; returns the history.
    pub(super) fn finish(self, wall: f64) -> Vec<EpochStats> {
        if self.opts.verbosity == Verbosity::Normal {
            let epochs = self.cfg.epochs;
            let last = self.history.last().map_or(0.0, |s| s.test_acc);
            println!(
                "trained {epochs} epochs in {wall:.1} s ({:.1} s per epoch); final test accuracy {:.2}%",
                wall / epochs as f64,
                last * 100.0
            );
            let mut total = Phases::default();
            for h in &self.history {
                total.add(&h.phases);
            }
            let n = self.history.len().max(1) as f64;
            println!(
                "per epoch: {:.1} CPU-s; wall {:.1} s data, {:.1} s forward, {:.1} s backward, {:.1} s optimizer",
                total.cpu / n,
                total.data / n,
                total.forward / n,
                total.backward / n,
                total.optimizer / n
            );
        }
        self.history
    }
}

/// The freshly initialised network, on `ad`. It is always drawn on the CPU backend from the
/// run's seed, then moved to the training device, so that one seed gives the same initial
/// weights on every backend (a GPU run starts where the `flex` run starts).
fn initial_network(cfg: &TrainConfig, backend: Backend, device: &Device, ad: &Device) -> LeNet {
    if backend == Backend::Flex {
        device.seed(cfg.seed);
        return LeNet::new(cfg.activation, ad);
    }
    let cpu = Device::flex();
    cpu.seed(cfg.seed);
    let bytes = LeNet::new(cfg.activation, &cpu.autodiff())
        .into_record()
        .into_bytes()
        .expect("a network in memory serialises");
    let record = ModuleRecord::from_bytes(bytes).expect("a record just written reads back");
    device.seed(cfg.seed);
    LeNet::new(cfg.activation, ad)
        .try_load_record(record)
        .expect("a record of the same network loads")
}

/// Wall and process CPU time since this session of an epoch began.
struct Clock {
    wall: Instant,
    cpu: Option<cpu_time::ProcessTime>,
}

impl Clock {
    fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: cpu_time::ProcessTime::try_now().ok(),
        }
    }

    /// `tally` with this session's wall and CPU seconds added to the earlier sessions'.
    fn stamp(&self, tally: &PartialEpoch) -> PartialEpoch {
        let mut p = tally.clone();
        p.seconds += self.wall.elapsed().as_secs_f64();
        p.phases.cpu += self.cpu.map_or(0.0, |c| c.elapsed().as_secs_f64());
        p
    }
}

/// Copies a 28x28 image into `out` moved by `(dx, dy)` pixels, filling with 0.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_moves_and_fills_with_zero() {
        let mut src = [0u8; PIXELS];
        src[0] = 9;
        src[PIXELS - 1] = 7;
        let mut out = [1u8; PIXELS];
        shifted(&src, 1, 2, &mut out);
        assert_eq!(out[2 * 28 + 1], 9);
        assert_eq!(
            out.iter().filter(|&&v| v != 0).count(),
            1,
            "7 left the field"
        );
        shifted(&src, 0, 0, &mut out);
        assert_eq!(out, src);
    }
}
