//! The `host` command line: one module per command, each with its clap arguments and its
//! `run`, plus what several share: the MNIST directory ([`DataArgs`]), the model to run
//! ([`source`]) and the blob reports ([`report`]).
//!
//! Combinations that make no sense are clap errors, not ignored options: conflicts and
//! requirements are declared on the arguments; the few that depend on a value (`--precision
//! f32` with int8-only options, `--activation tanh` with an int8 export) are checked by
//! [`Cli::parse_checked`] right after parsing and reported the same way.

pub mod bench;
pub mod classify;
pub mod curve;
pub mod demo;
pub mod eval;
pub mod golden;
pub mod inspect;
pub mod predict;
pub mod quantize;
pub mod report;
pub mod source;
pub mod train;

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use host::quantize::{Precision, WeightBits};

/// The parsed command line.
#[derive(Parser)]
#[command(
    name = "host",
    version,
    about = "Train LeNet on MNIST, quantize it to int8 and export it for microcontrollers"
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Train the network (or load a checkpoint), then save and/or export it.
    Train(train::TrainArgs),
    /// Accuracy and confusion matrix on the 10,000 test images.
    Eval(eval::EvalArgs),
    /// Draw the training curve of a checkpoint (from its `.json` history) into a PNG.
    Curve(curve::CurveArgs),
    /// Classify random test digits and show them, or classify your own pictures (`--image`).
    Predict(predict::PredictArgs),
    /// Quantize a checkpoint and export a blob.
    Quantize(quantize::QuantizeArgs),
    /// Write golden test vectors (images, labels, int8 answers) for a blob.
    Golden(golden::GoldenArgs),
    /// Classify test images on a device over its serial link and compare with lenet-core here.
    Classify(classify::ClassifyArgs),
    /// Host speed figures: lenet-core latency (int8, f32; SIMD and portable), throughput on
    /// every core, training CPU-seconds per epoch (`scripts/bench.sh` adds the MCU figures).
    Bench(bench::BenchArgs),
    /// Describe a blob: sections, shapes, dtypes, quantization parameters, CRC.
    Inspect(inspect::InspectArgs),
    /// Serve the draw-a-digit page (WebAssembly, the int8 model in the browser) and print its URL.
    Demo(demo::DemoArgs),
}

/// Where the MNIST files are.
#[derive(Args, Clone)]
pub struct DataArgs {
    /// Directory holding the MNIST IDX files (gzipped or raw); downloaded there when missing.
    #[arg(long, env = "MNIST_DIR", default_value = "data/mnist", global = true)]
    pub data_dir: PathBuf,
}

impl Cli {
    /// Parses the process's command line; on an invalid one (including the combinations that
    /// depend on an option's value, see the module docs) prints clap's usage error and exits
    /// with status 2.
    pub fn parse_checked() -> Self {
        Self::try_parse_checked(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parses `args` (the first is the program name) and checks them as [`Cli::parse_checked`].
    ///
    /// # Errors
    /// clap's error for an invalid command line, `--help` or `--version`.
    pub fn try_parse_checked<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut cmd = Self::command();
        let matches = cmd.try_get_matches_from_mut(args)?;
        let cli = Self::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))?;
        if let Some((name, sub)) = matches.subcommand() {
            let check = match &cli.command {
                Command::Train(a) => a.check(sub),
                Command::Quantize(a) => a.check(sub),
                _ => Ok(()),
            };
            if let Err(message) = check {
                let sub_cmd = cmd
                    .find_subcommand_mut(name)
                    .expect("the parsed subcommand exists");
                return Err(sub_cmd.error(ErrorKind::ArgumentConflict, message));
            }
        }
        Ok(cli)
    }
}

/// Whether argument `id` was given on the command line (not a default or an environment value).
pub fn given(matches: &ArgMatches, id: &str) -> bool {
    matches.value_source(id) == Some(ValueSource::CommandLine)
}

/// Refuses the int8-only export options (`--calibration`, `--dense-scales`, `--weight-bits`,
/// `--int4-rounding`) when they were given with `--precision f32`, and `--int4-rounding`
/// without `--weight-bits 4`; `matches` are the subcommand's.
///
/// # Errors
/// The conflict, in clap's words.
pub fn check_int8_options(
    matches: &ArgMatches,
    precision: Precision,
    bits: WeightBits,
) -> Result<(), String> {
    if bits != WeightBits::Four && given(matches, "int4_rounding") {
        return Err(
            "the argument '--int4-rounding' cannot be used without '--weight-bits 4'".to_string(),
        );
    }
    if bits == WeightBits::Four && given(matches, "dense_scales") {
        return Err(
            "the argument '--dense-scales' cannot be used with '--weight-bits 4' (int4 fc1 has one scale per output unit)"
                .to_string(),
        );
    }
    if precision != Precision::F32 {
        return Ok(());
    }
    match [
        ("calibration", "--calibration"),
        ("dense_scales", "--dense-scales"),
        ("weight_bits", "--weight-bits"),
        ("int4_rounding", "--int4-rounding"),
    ]
    .into_iter()
    .find(|(id, _)| given(matches, id))
    {
        Some((_, flag)) => Err(format!(
            "the argument '{flag}' cannot be used with '--precision f32' (it applies to the int8 model)"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_checked(std::iter::once("host").chain(args.split_whitespace()))
    }

    /// The kind of error `args` gives, with its message for the assertion's report.
    fn refused(args: &str) -> (ErrorKind, String) {
        match parse(args) {
            Ok(_) => panic!("`host {args}` was accepted"),
            Err(e) => (e.kind(), e.to_string()),
        }
    }

    fn assert_conflict(args: &str, names: &[&str]) {
        let (kind, message) = refused(args);
        assert_eq!(
            kind,
            ErrorKind::ArgumentConflict,
            "`host {args}`: {message}"
        );
        for n in names {
            assert!(message.contains(n), "`host {args}`: {message}");
        }
    }

    fn assert_missing(args: &str, names: &[&str]) {
        let (kind, message) = refused(args);
        assert_eq!(
            kind,
            ErrorKind::MissingRequiredArgument,
            "`host {args}`: {message}"
        );
        for n in names {
            assert!(message.contains(n), "`host {args}`: {message}");
        }
    }

    fn assert_accepted(args: &str) {
        if let Err(e) = parse(args) {
            panic!("`host {args}` was refused: {e}");
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn model_source_needs_exactly_one_of_blob_and_checkpoint() {
        for cmd in ["eval", "predict"] {
            assert_missing(cmd, &["--weights", "--load-model"]);
            assert_conflict(
                &format!("{cmd} --weights b.blob --load-model c.bpk"),
                &["--weights", "--load-model"],
            );
            assert_conflict(
                &format!("{cmd} --load-model c.bpk --precision int8"),
                &["--precision", "--load-model"],
            );
            assert_conflict(
                &format!("{cmd} --weights b.blob --backend flex"),
                &["--backend", "--weights"],
            );
            assert_accepted(&format!("{cmd} --weights b.blob --precision f32"));
            assert_accepted(&format!("{cmd} --load-model c.bpk --backend flex"));
        }
    }

    #[test]
    fn predict_modes_exclude_each_other() {
        for opt in [
            "--count 3",
            "--seed 1",
            "--montage m.png",
            "--cols 4",
            "--no-ascii",
        ] {
            assert_conflict(
                &format!("predict --weights b.blob --image d.png {opt}"),
                &["--image", opt.split(' ').next().unwrap()],
            );
        }
        assert_missing("predict --weights b.blob --show", &["--image"]);
        assert_missing("predict --weights b.blob --cols 4", &["--montage"]);
        assert_accepted("predict --weights b.blob --image a.png b.jpg --show");
        assert_accepted("predict --weights b.blob --count 40 --seed 1 --montage m.png --cols 4");
    }

    #[test]
    fn eval_png_options_exclude_each_other() {
        assert_conflict(
            "eval --weights b.blob --no-png --confusion-png c.png",
            &["--no-png", "--confusion-png"],
        );
    }

    #[test]
    fn eval_confusion_png_goes_to_the_current_directory() {
        let png = |args: &str| match parse(args).unwrap().command {
            Command::Eval(a) => a.png_path(),
            _ => unreachable!(),
        };
        assert_eq!(
            png("eval --weights tests/fixtures/lenet-int8.blob"),
            Some(PathBuf::from("lenet-int8.confusion.png"))
        );
        assert_eq!(
            png("eval --load-model out/best.bpk"),
            Some(PathBuf::from("best.confusion.png"))
        );
        assert_eq!(
            png("eval --weights b.blob --confusion-png out/c.png"),
            Some(PathBuf::from("out/c.png"))
        );
        assert_eq!(png("eval --weights b.blob --no-png"), None);
    }

    #[test]
    fn train_load_model_refuses_the_training_options() {
        for opt in [
            "--recipe seed",
            "--epochs 3",
            "--batch-size 64",
            "--lr 0.1",
            "--optimizer sgd",
            "--schedule cosine",
            "--max-shift 1",
            "--seed 7",
            "--save-model m.bpk",
            "--resume",
            "--train-limit 100",
        ] {
            assert_conflict(
                &format!("train --load-model c.bpk {opt}"),
                &["--load-model", opt.split(' ').next().unwrap()],
            );
        }
        assert_accepted(
            "train --load-model c.bpk --activation relu --backend flex --test-limit 100 --export b.blob",
        );
    }

    #[test]
    fn train_export_options_need_export() {
        for opt in [
            "--precision both",
            "--calibration 100",
            "--dense-scales per-channel",
        ] {
            assert_missing(&format!("train {opt}"), &["--export"]);
        }
        assert_accepted(
            "train --export b.blob --precision both --calibration 100 --dense-scales per-channel",
        );
    }

    #[test]
    fn f32_export_refuses_the_int8_options() {
        for cmd in ["train", "quantize --load-model c.bpk"] {
            for opt in ["--calibration 100", "--dense-scales per-tensor"] {
                assert_conflict(
                    &format!("{cmd} --export b.blob --precision f32 {opt}"),
                    &[opt.split(' ').next().unwrap(), "--precision f32"],
                );
            }
            assert_accepted(&format!("{cmd} --export b.blob --precision f32"));
        }
    }

    #[test]
    fn tanh_training_exports_f32_only() {
        assert_conflict("train --activation tanh --export b.blob", &["tanh"]);
        assert_conflict(
            "train --activation tanh --export b.blob --precision both",
            &["tanh"],
        );
        assert_accepted("train --activation tanh --export b.blob --precision f32");
        assert_accepted("train --activation tanh");
    }
}
