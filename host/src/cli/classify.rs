//! `host classify`: classify test images on a device over its serial link and compare its
//! answers with lenet-core's here, bit for bit.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use host::{data, export};

use super::DataArgs;
use super::source::parse_blob;

/// Options of `host classify`.
#[derive(Args)]
pub struct ClassifyArgs {
    /// `tcp:HOST:PORT` (QEMU) or a serial device path (opened raw at 115200 baud, 8N1).
    #[arg(long)]
    pub serial: String,
    /// The blob the device runs (its int8 model gives the expected answers).
    #[arg(
        long,
        env = "LENET_BLOB",
        default_value = "tests/fixtures/lenet-int8.blob"
    )]
    pub weights: PathBuf,
    /// Number of test images (the first N).
    #[arg(long, default_value_t = 100)]
    pub count: usize,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Where the MNIST files are.
    #[command(flatten)]
    pub data: DataArgs,
}

impl ClassifyArgs {
    /// Runs `host classify`.
    ///
    /// # Errors
    /// Missing data, a blob without the int8 model, a failed link, or any device answer that
    /// differs from lenet-core's.
    pub fn run(self) -> Result<()> {
        let spec = &self.serial;
        let test = data::load_test(&self.data.data_dir)?.take(self.count);
        let blob = export::read_blob(&self.weights)?;
        let m = parse_blob(&blob, &self.weights)?;
        let q = m.int8().context("the blob has no int8 model")?;
        let mut client =
            host::serial::SerialClient::connect(spec, Duration::from_secs(self.timeout))?;
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
}
