//! `host eval`: accuracy and confusion matrix on the test images, through lenet-core for a
//! blob or burn for a checkpoint, and the confusion matrix drawn into a PNG.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use host::data;
use host::eval::Report;
use host::export;
use host::model::Act;
use host::pictures;
use host::train;

use super::DataArgs;
use super::report::{limited, report_blob};
use super::source::{ModelSource, Source, parse_blob};

/// Options of `host eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// The model to evaluate.
    #[command(flatten)]
    pub source: ModelSource,
    /// Evaluate only the first N test images.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Draw the confusion matrix into this PNG (default: the model's file name with
    /// `.confusion.png`, in the current directory, not beside the model).
    #[arg(long, conflicts_with = "no_png")]
    pub confusion_png: Option<PathBuf>,
    /// Do not draw the confusion-matrix PNG.
    #[arg(long)]
    pub no_png: bool,
    /// Where the MNIST files are.
    #[command(flatten)]
    pub data: DataArgs,
}

impl EvalArgs {
    /// Where the confusion matrix goes: `--confusion-png`, else the model's file name with
    /// `.confusion.png` in the current directory (`tests/fixtures/lenet-int8.blob` →
    /// `lenet-int8.confusion.png`); `None` with `--no-png`.
    pub fn png_path(&self) -> Option<PathBuf> {
        if self.no_png {
            return None;
        }
        if let Some(p) = &self.confusion_png {
            return Some(p.clone());
        }
        let source = self.source.source();
        let name = source.path().file_name().unwrap_or_default();
        Some(PathBuf::from(name).with_extension("confusion.png"))
    }

    /// Runs `host eval`.
    ///
    /// # Errors
    /// Missing data, an unreadable model, or a failed PNG write.
    pub fn run(self) -> Result<()> {
        let test = limited(data::load_test(&self.data.data_dir)?, self.limit);
        let t = Instant::now();
        let (name, report) = match self.source.source() {
            Source::Blob { path, precision } => {
                let blob = export::read_blob(path)?;
                let m = parse_blob(&blob, path)?;
                let (precision, report) = report_blob(&m, &test, precision)?;
                (format!("lenet-core {precision}"), report)
            }
            Source::Checkpoint { path, backend } => {
                let device = backend.device()?;
                let (model, _) = train::load_checkpoint(path, Act::Relu, &device)?;
                let logits = host::model::logits(&model, &test.images, &device);
                let digits = logits
                    .iter()
                    .map(|l| lenet_core::kernels::act::argmax_f32(l) as u8);
                let report = Report::new(digits, &test.labels);
                print!("burn on {} test images: {report}", test.len());
                ("burn f32".to_owned(), report)
            }
        };
        if let Some(png) = self.png_path() {
            let title = format!(
                "{name}: {} test images, accuracy {:.2}%",
                test.len(),
                report.accuracy_pct()
            );
            pictures::confusion_matrix(&report, &title, &png)?;
            let shown = std::path::absolute(&png).unwrap_or(png);
            println!("wrote the confusion matrix to {}", shown.display());
        }
        println!("evaluated in {:.1} s", t.elapsed().as_secs_f64());
        Ok(())
    }
}
