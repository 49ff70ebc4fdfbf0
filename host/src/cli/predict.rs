//! `host predict`: classify random test digits and show them (optionally as a montage PNG),
//! or classify pictures given with `--image`. The two modes' options exclude each other.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use host::data::{self, Split};
use host::{pictures, preprocess};
use rand::{SeedableRng, seq::index::sample};

use super::DataArgs;
use super::source::ModelSource;

/// Options of `host predict`.
#[derive(Args)]
pub struct PredictArgs {
    /// The model to run.
    #[command(flatten)]
    pub source: ModelSource,
    /// Classify these pictures (PNG or JPEG, any size, dark on light or light on dark)
    /// instead of test digits.
    #[arg(
        long,
        num_args = 1..,
        value_name = "FILE",
        conflicts_with_all = ["count", "seed", "montage", "cols", "no_ascii"]
    )]
    pub image: Vec<PathBuf>,
    /// With `--image`: also draw the 28x28 digit the network sees.
    #[arg(long, requires = "image")]
    pub show: bool,
    /// How many digits.
    #[arg(long, default_value_t = 8)]
    pub count: usize,
    /// Seed for choosing the digits (random when absent).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also write a labelled grid of the digits to this PNG.
    #[arg(long)]
    pub montage: Option<PathBuf>,
    /// Columns of the montage.
    #[arg(long, default_value_t = 8, requires = "montage")]
    pub cols: usize,
    /// Do not draw the digits in the terminal.
    #[arg(long)]
    pub no_ascii: bool,
    /// Where the MNIST files are.
    #[command(flatten)]
    pub data: DataArgs,
}

impl PredictArgs {
    /// Runs `host predict`: the pictures of `--image`, else random test digits.
    ///
    /// # Errors
    /// Missing data, an unreadable model, a picture that could not be read, a failed montage.
    pub fn run(self) -> Result<()> {
        if self.image.is_empty() {
            self.test_digits()
        } else {
            self.pictures()
        }
    }

    /// Classifies `--count` random test digits, prints each with its prediction, and draws the
    /// montage.
    fn test_digits(&self) -> Result<()> {
        let test = data::load_test(&self.data.data_dir)?;
        let count = self.count.min(test.len());
        let mut rng = match self.seed {
            Some(s) => rand_chacha::ChaCha8Rng::seed_from_u64(s),
            None => rand_chacha::ChaCha8Rng::from_os_rng(),
        };
        let picked: Vec<usize> = sample(&mut rng, test.len(), count).into_vec();
        let mut subset = Split::default();
        for &i in &picked {
            subset.images.extend_from_slice(test.image(i));
            subset.labels.push(test.labels[i]);
        }
        let preds = self.source.source().predictions(&subset)?;
        let mut right = 0;
        for ((&i, &(digit, probs)), &label) in picked.iter().zip(&preds).zip(&subset.labels) {
            if !self.no_ascii {
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
        if let Some(path) = &self.montage {
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
            pictures::save_png(&pictures::montage_image(&cells, self.cols)?, path)?;
            println!("wrote {}", path.display());
        }
        Ok(())
    }

    /// Classifies the `--image` pictures: each goes through [`preprocess::load_digit`], then
    /// the model, and gets its digit and top-3 probabilities.
    fn pictures(&self) -> Result<()> {
        let files = &self.image;
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
            self.source.source().predictions(&digits)?
        };
        for (i, (path, (digit, probs))) in read.iter().zip(preds).enumerate() {
            if self.show {
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
}
