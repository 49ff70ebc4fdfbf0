//! `host train`: train the network (or load a checkpoint), then save and/or export it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::{ArgMatches, Args};
use host::data::{self, Mnist};
use host::int4::Rounding;
use host::model::{Act, LeNet};
use host::pictures;
use host::quantize::{Granularity, Int8Options, Precision, WeightBits};
use host::train::{
    self, Backend, Optimizer, Recipe, Schedule, TrainConfig, TrainError, TrainOptions, Verbosity,
};

use super::report::export_blob;
use super::{DataArgs, check_int8_options};

/// Options of `host train`. With `--load-model` nothing is trained, so the training options
/// are refused; the export options need `--export`.
#[derive(Args)]
pub struct TrainArgs {
    /// Hyper-parameter preset: `best` (Adam, cosine, shifts) or `seed` (the tutorial's SGD 0.01).
    #[arg(long, value_enum, default_value_t = Recipe::Best)]
    pub recipe: Recipe,
    /// Epochs [recipe: 20].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Batch size [recipe: 128].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Learning rate [best: 0.001, seed: 0.01].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Optimizer [best: adam, seed: sgd].
    #[arg(long, value_enum)]
    pub optimizer: Option<Optimizer>,
    /// Learning-rate schedule [best: cosine, seed: constant].
    #[arg(long, value_enum)]
    pub schedule: Option<Schedule>,
    /// Largest random shift in pixels for augmentation, 0 = none [best: 2, seed: 0].
    #[arg(long)]
    pub max_shift: Option<usize>,
    /// Hidden-layer activation.
    #[arg(long, value_enum, default_value_t = Act::Relu)]
    pub activation: Act,
    /// Seed of initialisation, shuffling and augmentation.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Checkpoint path: a burn record written at the end of every epoch (plus `<path>.json`
    /// metadata, `<path>.state` for --resume and `<path>.curve.png`), each atomically.
    #[arg(long, default_value = "checkpoints/lenet.bpk")]
    pub save_model: PathBuf,
    /// Continue an interrupted run where it stopped: the step where Ctrl-C saved it, else the end
    /// of its last complete epoch (same flags as the original run; the result is bit-identical).
    #[arg(long)]
    pub resume: bool,
    /// Load this checkpoint instead of training.
    #[arg(
        long,
        conflicts_with_all = [
            "recipe", "epochs", "batch_size", "lr", "optimizer", "schedule", "max_shift",
            "seed", "save_model", "resume", "train_limit",
        ]
    )]
    pub load_model: Option<PathBuf>,
    /// Export a weight blob here.
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// Models the exported blob carries.
    #[arg(long, value_enum, default_value_t = Precision::Int8, requires = "export")]
    pub precision: Precision,
    /// Training images used to calibrate int8 activation ranges.
    #[arg(long, default_value_t = 3000, requires = "export")]
    pub calibration: usize,
    /// Weight scales of the int8 dense layers (the convolutions always get one per channel):
    /// per tensor gives the smallest blob, per channel about 4 KiB more.
    #[arg(long, value_enum, default_value_t = Granularity::PerTensor, requires = "export")]
    pub dense_scales: Granularity,
    /// Bits per fc1 weight: 8, or 4 for the compact blob (about 637 KiB; one scale per output
    /// unit) that boards with 1 MiB of flash hold.
    #[arg(long, value_enum, default_value_t = WeightBits::Eight, requires = "export")]
    pub weight_bits: WeightBits,
    /// How int4 weights are rounded (with `--weight-bits 4`).
    #[arg(long, value_enum, default_value_t = Rounding::Nearest, requires = "export")]
    pub int4_rounding: Rounding,
    /// Train on only the first N training images.
    #[arg(long)]
    pub train_limit: Option<usize>,
    /// Evaluate on only the first N test images.
    #[arg(long)]
    pub test_limit: Option<usize>,
    /// Where the MNIST files are.
    #[command(flatten)]
    pub data: DataArgs,
}

impl TrainArgs {
    /// The checks clap cannot declare, as they depend on values; `matches` are this
    /// subcommand's.
    ///
    /// # Errors
    /// The message of the first invalid combination.
    pub fn check(&self, matches: &ArgMatches) -> Result<(), String> {
        // Without `--export`, clap already refuses the export options.
        if self.export.is_none() {
            return Ok(());
        }
        check_int8_options(matches, self.precision, self.weight_bits)?;
        if self.load_model.is_none()
            && self.activation == Act::Tanh
            && self.precision != Precision::F32
        {
            return Err(
                "the argument '--activation tanh' needs '--precision f32' to export: \
                 int8 export supports ReLU models only"
                    .into(),
            );
        }
        Ok(())
    }

    /// The training configuration: the recipe with the given overrides.
    pub fn config(&self) -> TrainConfig {
        let mut cfg = TrainConfig::recipe(self.recipe);
        cfg.epochs = self.epochs.unwrap_or(cfg.epochs);
        cfg.batch_size = self.batch_size.unwrap_or(cfg.batch_size);
        cfg.lr = self.lr.unwrap_or(cfg.lr);
        cfg.optimizer = self.optimizer.unwrap_or(cfg.optimizer);
        cfg.schedule = self.schedule.unwrap_or(cfg.schedule);
        cfg.max_shift = self.max_shift.unwrap_or(cfg.max_shift);
        cfg.activation = self.activation;
        cfg.seed = self.seed;
        cfg.train_limit = self.train_limit;
        cfg.test_limit = self.test_limit;
        cfg
    }

    /// Runs `host train`. Exits with status 130 when Ctrl-C stopped the training.
    ///
    /// # Errors
    /// Missing data, a failed training, load, save or export.
    pub fn run(self) -> Result<()> {
        let cfg = self.config();
        let device = self.backend.device()?;
        if let Some(adapter) = self.backend.adapter()? {
            println!("wgpu adapter: {adapter}");
            if adapter.software {
                println!(
                    "note: {} is a software rasterizer running on the CPU; \
                     `--backend flex` trains faster here",
                    adapter.name
                );
            }
        }
        let mnist = data::load(&self.data.data_dir)?;
        let model = match &self.load_model {
            Some(path) => {
                let model = self.load(path, &device)?;
                let test = match cfg.test_limit {
                    Some(n) => mnist.test.take(n),
                    None => mnist.test.clone(),
                };
                println!(
                    "burn test accuracy: {:.2}%",
                    100.0 * train::accuracy(&model, &test, &device)
                );
                model
            }
            None => self.train(&cfg, &mnist, &device)?,
        };
        if let Some(path) = &self.export {
            export_blob(
                &model,
                path,
                self.precision,
                &mnist.train,
                &Int8Options {
                    calibration: self.calibration,
                    dense: self.dense_scales,
                    fc1_bits: self.weight_bits,
                    rounding: self.int4_rounding,
                },
                &mnist.test,
            )?;
        }
        Ok(())
    }

    /// Loads `--load-model` and says what it is.
    fn load(&self, path: &std::path::Path, device: &burn::prelude::Device) -> Result<LeNet> {
        let (model, meta) = train::load_checkpoint(path, self.activation, device)?;
        println!(
            "loaded {} ({:?} activation); skipping training",
            path.display(),
            model.activation
        );
        if let Some(m) = meta.and_then(|m| m.history.last().copied()) {
            println!(
                "checkpoint's recorded test accuracy: {:.2}%",
                m.test_acc * 100.0
            );
        }
        Ok(model)
    }

    /// Trains with checkpoints at `--save-model`, stopping cleanly on Ctrl-C, and draws the
    /// training curve.
    fn train(
        &self,
        cfg: &TrainConfig,
        mnist: &Mnist,
        device: &burn::prelude::Device,
    ) -> Result<LeNet> {
        println!(
            "training LeNet: {:?} lr {} ({:?}), batch {}, {} epochs, shift ±{} px, {:?}, seed {}, backend {:?}",
            cfg.optimizer,
            cfg.lr,
            cfg.schedule,
            cfg.batch_size,
            cfg.epochs,
            cfg.max_shift,
            cfg.activation,
            cfg.seed,
            self.backend
        );
        let stop = Arc::new(AtomicBool::new(false));
        {
            let stop = stop.clone();
            // A second Ctrl-C ends the process at once.
            ctrlc::set_handler(move || {
                if stop.swap(true, Ordering::SeqCst) {
                    std::process::exit(130);
                }
                eprintln!("\nstopping after this step (Ctrl-C again to quit now)");
            })
            .context("installing the Ctrl-C handler")?;
        }
        let opts = TrainOptions {
            verbosity: Verbosity::Normal,
            checkpoint: Some(&self.save_model),
            resume: self.resume,
            stop: Some(&stop),
            backend: self.backend,
        };
        let (model, history) = match train::train_with(cfg, mnist, device, &opts) {
            Ok(r) => r,
            Err(TrainError::Interrupted(stopped)) => {
                eprintln!("{stopped}: {}", self.save_model.display());
                std::process::exit(130);
            }
            Err(TrainError::Failed(e)) => return Err(e),
            Err(e) => return Err(e.into()),
        };
        println!("saved checkpoint {}", self.save_model.display());
        let curve = self.save_model.with_extension("curve.png");
        pictures::training_curve(&history, &curve)?;
        println!("wrote training curve {}", curve.display());
        Ok(model)
    }
}
