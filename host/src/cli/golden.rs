//! `host golden`: golden test vectors (images, labels, int8 answers) for a blob, the records
//! the firmware self-test checks bit for bit.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use host::{data, export};
use lenet_core::golden::{self, RECORD_LEN};

use super::DataArgs;
use super::source::parse_blob;

/// Options of `host golden`.
#[derive(Args)]
pub struct GoldenArgs {
    /// The blob (must carry the int8 model).
    #[arg(long)]
    pub weights: PathBuf,
    /// Output file (796-byte records: 784 pixels, label, digit, 10 int8 logits).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of test images (evenly spaced over the test set).
    #[arg(long, default_value_t = 20)]
    pub count: usize,
    /// Where the MNIST files are.
    #[command(flatten)]
    pub data: DataArgs,
}

impl GoldenArgs {
    /// Runs `host golden`.
    ///
    /// # Errors
    /// Missing data, a blob without the int8 model, or a failed write.
    pub fn run(self) -> Result<()> {
        let test = data::load_test(&self.data.data_dir)?;
        let blob = export::read_blob(&self.weights)?;
        let m = parse_blob(&blob, &self.weights)?;
        let q = m
            .int8()
            .context("golden vectors need a blob with the int8 model")?;
        let count = self.count.clamp(1, test.len());
        let step = test.len() / count;
        let mut bytes = Vec::with_capacity(count * RECORD_LEN);
        let mut scratch = Box::new(lenet_core::ScratchI8::new());
        for k in 0..count {
            let i = k * step;
            let image = test.image(i);
            let p = q.predict(image, &mut scratch);
            bytes.extend_from_slice(&golden::encode(image, test.labels[i], &p));
        }
        let out = &self.out;
        host::io::write_atomic(out, &bytes)
            .with_context(|| format!("writing {}", out.display()))?;
        println!(
            "wrote {count} golden records (test images 0, {step}, {}, …) to {}",
            2 * step,
            out.display()
        );
        Ok(())
    }
}
