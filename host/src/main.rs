//! `host`: train, quantize, evaluate and export the LeNet MNIST classifier.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use host::data::{self, Split};
use host::eval::{self, Report};
use host::export::{self, AlignedBlob};
use host::model::{Act, FlatParams, LeNet};
use host::pictures;
use host::preprocess;
use host::quantize::{self, Granularity, Precision};
use host::train::{self, Backend, Optimizer, Recipe, Schedule, TrainConfig, Verbosity};
use lenet_core::Model;
use rand::{SeedableRng, seq::index::sample};

#[derive(Parser)]
#[command(
    name = "host",
    version,
    about = "Train LeNet on MNIST, quantize it to int8 and export it for microcontrollers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DataArgs {
    /// Directory holding the MNIST IDX files (gzipped or raw); downloaded there when missing.
    #[arg(long, env = "MNIST_DIR", default_value = "data/mnist", global = true)]
    data_dir: PathBuf,
}

#[derive(Args, Clone)]
struct ModelSource {
    /// A weight blob (from `train --export` or `quantize`).
    #[arg(long, conflicts_with = "load_model")]
    weights: Option<PathBuf>,
    /// A burn checkpoint (from `train --save-model`).
    #[arg(long)]
    load_model: Option<PathBuf>,
    /// Which model of a blob to run (default: int8 when present).
    #[arg(long, value_enum)]
    precision: Option<EvalPrecision>,
    /// Backend for checkpoints.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EvalPrecision {
    Int8,
    F32,
}

#[derive(Subcommand)]
enum Command {
    /// Train the network (or load a checkpoint), then save and/or export it.
    Train(TrainArgs),
    /// Accuracy and confusion matrix on the 10,000 test images.
    Eval {
        #[command(flatten)]
        source: ModelSource,
        /// Evaluate only the first N test images.
        #[arg(long)]
        limit: Option<usize>,
        /// Draw the confusion matrix into this PNG (default: beside the model,
        /// `<model>.confusion.png`).
        #[arg(long, conflicts_with = "no_png")]
        confusion_png: Option<PathBuf>,
        /// Do not draw the confusion-matrix PNG.
        #[arg(long)]
        no_png: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Draw the training curve of a checkpoint (from its `.json` history) into a PNG.
    Curve {
        /// The checkpoint (its `<path>.json` holds the history).
        checkpoint: PathBuf,
        /// Output PNG.
        #[arg(long)]
        out: PathBuf,
    },
    /// Classify random test digits and show them, or classify your own pictures (`--image`).
    Predict {
        #[command(flatten)]
        source: ModelSource,
        /// Classify these pictures (PNG or JPEG, any size, dark on light or light on dark)
        /// instead of test digits.
        #[arg(long, num_args = 1.., value_name = "FILE", conflicts_with_all = ["seed", "montage"])]
        image: Vec<PathBuf>,
        /// With `--image`: also draw the 28x28 digit the network sees.
        #[arg(long, requires = "image")]
        show: bool,
        /// How many digits.
        #[arg(long, default_value_t = 8)]
        count: usize,
        /// Seed for choosing the digits (random when absent).
        #[arg(long)]
        seed: Option<u64>,
        /// Also write a labelled grid of the digits to this PNG.
        #[arg(long)]
        montage: Option<PathBuf>,
        /// Columns of the montage.
        #[arg(long, default_value_t = 8)]
        cols: usize,
        /// Do not draw the digits in the terminal.
        #[arg(long)]
        no_ascii: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Quantize a checkpoint and export a blob.
    Quantize {
        /// The checkpoint.
        #[arg(long)]
        load_model: PathBuf,
        /// Output blob.
        #[arg(long)]
        export: PathBuf,
        /// Models to include.
        #[arg(long, value_enum, default_value_t = Precision::Int8)]
        precision: Precision,
        /// Training images used to calibrate activation ranges.
        #[arg(long, default_value_t = 3000)]
        calibration: usize,
        /// Weight scales of the dense layers (the convolutions always get one per channel):
        /// per tensor gives the smallest blob, per channel 4 KB more.
        #[arg(long, value_enum, default_value_t = Granularity::PerTensor)]
        dense_scales: Granularity,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Write golden test vectors (images, labels, int8 answers) for a blob.
    Golden {
        /// The blob (must carry the int8 model).
        #[arg(long)]
        weights: PathBuf,
        /// Output file (796-byte records: 784 pixels, label, digit, 10 int8 logits).
        #[arg(long)]
        out: PathBuf,
        /// Number of test images (evenly spaced over the test set).
        #[arg(long, default_value_t = 20)]
        count: usize,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Classify test images on a device over its serial link and compare with lenet-core here.
    Classify {
        /// `tcp:HOST:PORT` (QEMU) or a serial device path (configure it raw at 115200 first).
        #[arg(long)]
        serial: String,
        /// The blob the device runs (its int8 model gives the expected answers).
        #[arg(
            long,
            env = "LENET_BLOB",
            default_value = "tests/fixtures/lenet-int8.blob"
        )]
        weights: PathBuf,
        /// Number of test images (the first N).
        #[arg(long, default_value_t = 100)]
        count: usize,
        /// Seconds to wait for each answer.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Host speed figures: lenet-core latency (int8, f32; SIMD and portable), throughput on
    /// every core, training CPU-seconds per epoch (`scripts/bench.sh` adds the MCU figures).
    Bench {
        /// The int8 blob to time.
        #[arg(long, default_value = "tests/fixtures/lenet-int8.blob")]
        weights: PathBuf,
        /// Test images timed one at a time.
        #[arg(long, default_value_t = 1000)]
        images: usize,
        /// Passes over those images.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Training steps of the seed recipe to time (0: skip training).
        #[arg(long, default_value_t = 40)]
        train_steps: usize,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Describe a blob: sections, shapes, dtypes, quantization parameters, CRC.
    Inspect {
        /// The blob.
        blob: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct TrainArgs {
    /// Hyper-parameter preset: `best` (Adam, cosine, shifts) or `seed` (the tutorial's SGD 0.01).
    #[arg(long, value_enum, default_value_t = Recipe::Best)]
    recipe: Recipe,
    /// Epochs [recipe: 20].
    #[arg(long)]
    epochs: Option<usize>,
    /// Batch size [recipe: 128].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Learning rate [best: 0.001, seed: 0.01].
    #[arg(long)]
    lr: Option<f64>,
    /// Optimizer [best: adam, seed: sgd].
    #[arg(long, value_enum)]
    optimizer: Option<Optimizer>,
    /// Learning-rate schedule [best: cosine, seed: constant].
    #[arg(long, value_enum)]
    schedule: Option<Schedule>,
    /// Largest random shift in pixels for augmentation, 0 = none [best: 2, seed: 0].
    #[arg(long)]
    max_shift: Option<usize>,
    /// Hidden-layer activation.
    #[arg(long, value_enum, default_value_t = Act::Relu)]
    activation: Act,
    /// Seed of initialisation, shuffling and augmentation.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
    /// Checkpoint path: a burn record written at the end of every epoch (plus `<path>.json`
    /// metadata, `<path>.state` for --resume and `<path>.curve.png`), each atomically.
    #[arg(long, default_value = "checkpoints/lenet.bpk")]
    save_model: PathBuf,
    /// Continue an interrupted run where it stopped: the step where Ctrl-C saved it, else the end
    /// of its last complete epoch (same flags as the original run; the result is bit-identical).
    #[arg(long, conflicts_with = "load_model")]
    resume: bool,
    /// Load this checkpoint instead of training.
    #[arg(long)]
    load_model: Option<PathBuf>,
    /// Export a weight blob here.
    #[arg(long)]
    export: Option<PathBuf>,
    /// Models the exported blob carries.
    #[arg(long, value_enum, default_value_t = Precision::Int8)]
    precision: Precision,
    /// Training images used to calibrate int8 activation ranges.
    #[arg(long, default_value_t = 3000)]
    calibration: usize,
    /// Weight scales of the int8 dense layers (the convolutions always get one per channel):
    /// per tensor gives the smallest blob, per channel 4 KB more.
    #[arg(long, value_enum, default_value_t = Granularity::PerTensor)]
    dense_scales: Granularity,
    /// Train on only the first N training images.
    #[arg(long)]
    train_limit: Option<usize>,
    /// Evaluate on only the first N test images.
    #[arg(long)]
    test_limit: Option<usize>,
    #[command(flatten)]
    data: DataArgs,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Train(a) => cmd_train(a),
        Command::Eval {
            source,
            limit,
            confusion_png,
            no_png,
            data,
        } => {
            let png = match (no_png, confusion_png) {
                (true, _) => None,
                (false, Some(p)) => Some(p),
                (false, None) => source
                    .weights
                    .as_ref()
                    .or(source.load_model.as_ref())
                    .map(|m| m.with_extension("confusion.png")),
            };
            cmd_eval(&source, limit, png.as_deref(), &data.data_dir)
        }
        Command::Curve { checkpoint, out } => {
            let meta = train::load_meta(&checkpoint)?;
            pictures::training_curve(&meta.history, &out)?;
            println!("wrote {}", out.display());
            Ok(())
        }
        Command::Predict {
            source,
            image,
            show,
            ..
        } if !image.is_empty() => cmd_predict_images(&source, &image, show),
        Command::Predict {
            source,
            count,
            seed,
            montage,
            cols,
            no_ascii,
            data,
            ..
        } => cmd_predict(
            &source,
            count,
            seed,
            montage.as_deref(),
            cols,
            !no_ascii,
            &data.data_dir,
        ),
        Command::Quantize {
            load_model,
            export,
            precision,
            calibration,
            dense_scales,
            data,
        } => {
            let device = Backend::Flex.device();
            let (model, _) = train::load_checkpoint(&load_model, Act::Relu, &device)?;
            let mnist = data::load(&data.data_dir)?;
            export_blob(
                &model,
                &export,
                precision,
                &mnist.train,
                calibration,
                dense_scales,
                &mnist.test,
            )
        }
        Command::Golden {
            weights,
            out,
            count,
            data,
        } => cmd_golden(&weights, &out, count, &data.data_dir),
        Command::Inspect { blob, json } => cmd_inspect(&blob, json),
        Command::Bench {
            weights,
            images,
            rounds,
            train_steps,
            data,
        } => {
            let blob = export::read_blob(&weights)?;
            let mnist = data::load(&data.data_dir)?;
            let opts = host::bench::BenchOptions {
                images,
                rounds,
                train_steps,
            };
            host::bench::run(blob.bytes(), &mnist, &Backend::Flex.device(), &opts)
        }
        Command::Classify {
            serial,
            weights,
            count,
            timeout,
            data,
        } => cmd_classify(&serial, &weights, count, timeout, &data.data_dir),
    }
}

fn cmd_train(a: TrainArgs) -> Result<()> {
    let mut cfg = TrainConfig::recipe(a.recipe);
    cfg.epochs = a.epochs.unwrap_or(cfg.epochs);
    cfg.batch_size = a.batch_size.unwrap_or(cfg.batch_size);
    cfg.lr = a.lr.unwrap_or(cfg.lr);
    cfg.optimizer = a.optimizer.unwrap_or(cfg.optimizer);
    cfg.schedule = a.schedule.unwrap_or(cfg.schedule);
    cfg.max_shift = a.max_shift.unwrap_or(cfg.max_shift);
    cfg.activation = a.activation;
    cfg.seed = a.seed;
    cfg.train_limit = a.train_limit;
    cfg.test_limit = a.test_limit;
    let mnist = data::load(&a.data_dir_path())?;
    let device = a.backend.device();
    let model = if let Some(path) = &a.load_model {
        let (model, meta) = train::load_checkpoint(path, a.activation, &device)?;
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
        model
    } else {
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
            a.backend
        );
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        {
            let stop = stop.clone();
            // A second Ctrl-C ends the process at once.
            ctrlc::set_handler(move || {
                if stop.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    std::process::exit(130);
                }
                eprintln!("\nstopping after this step (Ctrl-C again to quit now)");
            })
            .context("installing the Ctrl-C handler")?;
        }
        let opts = train::TrainOptions {
            verbosity: Verbosity::Normal,
            checkpoint: Some(&a.save_model),
            resume: a.resume,
            stop: Some(&stop),
            backend: a.backend,
        };
        let (model, history) = match train::train_with(&cfg, &mnist, &device, &opts) {
            Ok(r) => r,
            Err(e) if e.is::<train::Interrupted>() => {
                eprintln!("{e}: {}", a.save_model.display());
                std::process::exit(130);
            }
            Err(e) => return Err(e),
        };
        println!("saved checkpoint {}", a.save_model.display());
        let curve = a.save_model.with_extension("curve.png");
        pictures::training_curve(&history, &curve)?;
        println!("wrote training curve {}", curve.display());
        model
    };
    if a.load_model.is_some() {
        let test = match cfg.test_limit {
            Some(n) => mnist.test.take(n),
            None => mnist.test.clone(),
        };
        println!(
            "burn test accuracy: {:.2}%",
            100.0 * train::accuracy(&model, &test, &device)
        );
    }
    if let Some(path) = &a.export {
        export_blob(
            &model,
            path,
            a.precision,
            &mnist.train,
            a.calibration,
            a.dense_scales,
            &mnist.test,
        )?;
    }
    Ok(())
}

impl TrainArgs {
    fn data_dir_path(&self) -> PathBuf {
        self.data.data_dir.clone()
    }
}

fn export_blob(
    model: &LeNet,
    path: &Path,
    precision: Precision,
    calib: &Split,
    calibration: usize,
    dense_scales: Granularity,
    test: &Split,
) -> Result<()> {
    let params = FlatParams::from_model(model);
    let t = Instant::now();
    let bytes = quantize::build_blob(&params, precision, calib, calibration, dense_scales)?;
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
fn report_blob(
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

fn limited(split: Split, limit: Option<usize>) -> Split {
    match limit {
        Some(n) => split.take(n),
        None => split,
    }
}

fn cmd_eval(
    source: &ModelSource,
    limit: Option<usize>,
    png: Option<&Path>,
    dir: &Path,
) -> Result<()> {
    let test = limited(data::load_test(dir)?, limit);
    let t = Instant::now();
    let (name, report) = if let Some(path) = &source.weights {
        let blob = export::read_blob(path)?;
        let m = Model::parse(blob.bytes()).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let (precision, report) = report_blob(&m, &test, source.precision)?;
        (format!("lenet-core {precision}"), report)
    } else if let Some(path) = &source.load_model {
        let device = source.backend.device();
        let (model, _) = train::load_checkpoint(path, Act::Relu, &device)?;
        let logits = host::model::logits(&model, &test.images, &device);
        let digits = logits
            .iter()
            .map(|l| lenet_core::kernels::act::argmax_f32(l) as u8);
        let report = Report::new(digits, &test.labels);
        print!("burn on {} test images: {report}", test.len());
        ("burn f32".to_owned(), report)
    } else {
        bail!("give --weights BLOB or --load-model CHECKPOINT")
    };
    if let Some(png) = png {
        let title = format!(
            "{name}: {} test images, accuracy {:.2}%",
            test.len(),
            report.accuracy_pct()
        );
        pictures::confusion_matrix(&report, &title, png)?;
        println!("wrote {}", png.display());
    }
    println!("evaluated in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}

/// Predicted digit and softmax probabilities for each image under `source`.
fn predictions(source: &ModelSource, images: &Split) -> Result<Vec<(u8, [f32; 10])>> {
    fn softmax(l: [f32; 10]) -> [f32; 10] {
        let m = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let e = l.map(|v| (v - m).exp());
        let s: f32 = e.iter().sum();
        e.map(|v| v / s)
    }
    if let Some(path) = &source.weights {
        let blob = export::read_blob(path)?;
        let m = Model::parse(blob.bytes()).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let use_int8 = match source.precision {
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
    } else if let Some(path) = &source.load_model {
        let device = source.backend.device();
        let (model, _) = train::load_checkpoint(path, Act::Relu, &device)?;
        Ok(host::model::logits(&model, &images.images, &device)
            .into_iter()
            .map(|l| (lenet_core::kernels::act::argmax_f32(&l) as u8, softmax(l)))
            .collect())
    } else {
        bail!("give --weights BLOB or --load-model CHECKPOINT")
    }
}

fn cmd_predict(
    source: &ModelSource,
    count: usize,
    seed: Option<u64>,
    montage: Option<&Path>,
    cols: usize,
    show: bool,
    dir: &Path,
) -> Result<()> {
    let test = data::load_test(dir)?;
    let count = count.min(test.len());
    let mut rng = match seed {
        Some(s) => rand_chacha::ChaCha8Rng::seed_from_u64(s),
        None => rand_chacha::ChaCha8Rng::from_os_rng(),
    };
    let picked: Vec<usize> = sample(&mut rng, test.len(), count).into_vec();
    let mut subset = Split::default();
    for &i in &picked {
        subset.images.extend_from_slice(test.image(i));
        subset.labels.push(test.labels[i]);
    }
    let preds = predictions(source, &subset)?;
    let mut right = 0;
    for ((&i, &(digit, probs)), &label) in picked.iter().zip(&preds).zip(&subset.labels) {
        if show {
            print!("{}", pictures::ascii(test.image(i)));
        }
        let mark = if digit == label { "ok" } else { "WRONG" };
        right += usize::from(digit == label);
        println!(
            "test image #{i}: predicted {digit} ({:.1}%), actual {label}  {mark}",
            probs[usize::from(digit)] * 100.0
        );
    }
    println!("{right}/{count} correct");
    if let Some(path) = montage {
        let cells: Vec<pictures::Cell<'_>> = picked
            .iter()
            .zip(&preds)
            .zip(&subset.labels)
            .map(|((&i, &(predicted, _)), &actual)| pictures::Cell {
                pixels: test.image(i),
                predicted,
                actual,
            })
            .collect();
        pictures::save_png(&pictures::montage_image(&cells, cols)?, path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Classifies pictures given on the command line: each goes through
/// [`host::preprocess::load_digit`], then the model, and gets its digit and top-3 probabilities.
fn cmd_predict_images(source: &ModelSource, files: &[PathBuf], show: bool) -> Result<()> {
    let mut digits = Split::default();
    let mut read = Vec::new();
    for path in files {
        match preprocess::load_digit(path) {
            Ok(pixels) => {
                digits.images.extend_from_slice(&pixels);
                // The label is unknown; `predictions` reads only the pixels.
                digits.labels.push(0);
                read.push(path);
            }
            Err(e) => eprintln!("error: {e}"),
        }
    }
    let preds = if digits.is_empty() {
        Vec::new()
    } else {
        predictions(source, &digits)?
    };
    for (i, (path, (digit, probs))) in read.iter().zip(preds).enumerate() {
        if show {
            print!("{}", pictures::ascii(digits.image(i)));
        }
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        let top: Vec<String> = order[..3]
            .iter()
            .map(|&d| format!("{d} {:.1}%", probs[d] * 100.0))
            .collect();
        println!(
            "{}: predicted {digit}  (top 3: {})",
            path.display(),
            top.join(", ")
        );
    }
    if read.len() < files.len() {
        bail!(
            "{} of {} pictures could not be read",
            files.len() - read.len(),
            files.len()
        );
    }
    Ok(())
}

fn cmd_golden(weights: &Path, out: &Path, count: usize, dir: &Path) -> Result<()> {
    let test = data::load_test(dir)?;
    let blob = export::read_blob(weights)?;
    let m = Model::parse(blob.bytes()).map_err(|e| anyhow!("{}: {e}", weights.display()))?;
    let q = m
        .int8()
        .context("golden vectors need a blob with the int8 model")?;
    let count = count.clamp(1, test.len());
    let step = test.len() / count;
    let mut bytes = Vec::with_capacity(count * 796);
    let mut scratch = Box::new(lenet_core::ScratchI8::new());
    for k in 0..count {
        let i = k * step;
        let p = q.predict(test.image(i), &mut scratch);
        bytes.extend_from_slice(test.image(i));
        bytes.push(test.labels[i]);
        bytes.push(p.digit);
        bytes.extend(p.logits.iter().map(|&v| v as u8));
    }
    host::io::write_atomic(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {count} golden records (test images 0, {step}, {}, …) to {}",
        2 * step,
        out.display()
    );
    Ok(())
}

fn cmd_classify(spec: &str, weights: &Path, count: usize, timeout: u64, dir: &Path) -> Result<()> {
    let test = data::load_test(dir)?.take(count);
    let blob = export::read_blob(weights)?;
    let m = Model::parse(blob.bytes()).map_err(|e| anyhow!("{}: {e}", weights.display()))?;
    let q = m.int8().context("the blob has no int8 model")?;
    let mut client =
        host::serial::SerialClient::connect(spec, std::time::Duration::from_secs(timeout))?;
    let mut scratch = Box::new(lenet_core::ScratchI8::new());
    let (mut correct, mut agree, mut logits_equal) = (0usize, 0usize, 0usize);
    let (mut lo, mut hi) = (u32::MAX, 0u32);
    let t = Instant::now();
    for i in 0..test.len() {
        let reply = client
            .classify(test.image(i))
            .with_context(|| format!("test image #{i}"))?;
        let local = q.predict(test.image(i), &mut scratch);
        correct += usize::from(reply.digit == test.labels[i]);
        agree += usize::from(reply.digit == local.digit);
        logits_equal += usize::from(reply.logits == local.logits);
        if reply.logits != local.logits {
            eprintln!(
                "test image #{i}: device logits {:?} != host {:?}",
                reply.logits, local.logits
            );
        }
        lo = lo.min(reply.instructions);
        hi = hi.max(reply.instructions);
    }
    let n = test.len().max(1);
    println!(
        "{} images over {spec} in {:.1} s: device accuracy {:.2}%, agreement with host int8 {:.2}% ({} of {} logit vectors bit-identical), instructions per inference {lo}..={hi}",
        test.len(),
        t.elapsed().as_secs_f64(),
        100.0 * correct as f64 / n as f64,
        100.0 * agree as f64 / n as f64,
        logits_equal,
        test.len()
    );
    if logits_equal != test.len() {
        bail!(
            "the device's int8 answers differ from lenet-core's on {} images",
            test.len() - logits_equal
        );
    }
    Ok(())
}

fn cmd_inspect(path: &Path, json: bool) -> Result<()> {
    let blob = export::read_blob(path)?;
    let m = Model::parse(blob.bytes()).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let h = m.sections().header();
    let sections: Vec<_> = m.sections().iter().collect();
    if json {
        let v = serde_json::json!({
            "version": h.version,
            "model": h.model,
            "activation": format!("{:?}", h.activation).to_lowercase(),
            "total_len": h.total_len,
            "crc32": format!("{:#010x}", h.crc32),
            "f32": m.f32().is_some(),
            "int8": m.int8().is_some(),
            "sections": sections.iter().map(|s| serde_json::json!({
                "id": s.id.id(), "name": s.id.name(), "dtype": format!("{:?}", s.id.dtype()).to_lowercase(),
                "shape": s.dims().into_iter().take_while(|&d| d != 0).collect::<Vec<_>>(), "offset": s.offset, "len": s.bytes.len(),
            })).collect::<Vec<_>>(),
            "quant": m.int8().map(|q| serde_json::json!({
                "scales": q.scales(), "zero_points": q.zero_points,
            })),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "{}: lenet blob v{}, model {}, {:?}, {} bytes, CRC-32 {:#010x} (ok)",
        path.display(),
        h.version,
        h.model,
        h.activation,
        h.total_len,
        h.crc32
    );
    println!(
        "{:<20} {:>4} {:<5} {:<16} {:>9} {:>9}",
        "section", "id", "dtype", "shape", "offset", "bytes"
    );
    for s in &sections {
        let shape = s
            .dims()
            .into_iter()
            .take_while(|&d| d != 0)
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("x");
        println!(
            "{:<20} {:>4} {:<5} {:<16} {:>9} {:>9}",
            s.id.name(),
            s.id.id(),
            format!("{:?}", s.id.dtype()).to_lowercase(),
            shape,
            s.offset,
            s.bytes.len()
        );
    }
    if let Some(q) = m.int8() {
        let names = ["input", "pool1", "pool2", "fc1", "logits"];
        println!("int8 tensors:");
        for ((n, s), zp) in names.iter().zip(q.scales()).zip(q.zero_points) {
            println!("  {n:<7} scale {s:.6e}  zero point {zp}");
        }
        for (name, shifts) in [
            ("conv1", q.conv1.requant.shifts()),
            ("conv2", q.conv2.requant.shifts()),
            ("fc1", q.fc1.requant.shifts()),
            ("fc2", q.fc2.requant.shifts()),
        ] {
            let (lo, hi) = shifts
                .iter()
                .fold((i32::MAX, i32::MIN), |(a, b), &s| (a.min(s), b.max(s)));
            if let [s] = shifts {
                println!("  {name:<7} requant per tensor, shift {s}");
            } else {
                println!("  {name:<7} requant per channel, shifts {lo}..={hi}");
            }
        }
    }
    Ok(())
}
