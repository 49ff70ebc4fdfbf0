//! `host bench`: the host speed figures ([`host::bench`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use host::bench::{self, BenchOptions};
use host::train::Backend;
use host::{data, export};

use super::DataArgs;

/// Options of `host bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// The int8 blob to time.
    #[arg(long, default_value = "tests/fixtures/lenet-int8.blob")]
    pub weights: PathBuf,
    /// Test images timed one at a time.
    #[arg(long, default_value_t = 1000)]
    pub images: usize,
    /// Passes over those images.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Training steps of the seed recipe to time (0: skip training).
    #[arg(long, default_value_t = 40)]
    pub train_steps: usize,
    /// Where the MNIST files are.
    #[command(flatten)]
    pub data: DataArgs,
}

impl BenchArgs {
    /// Runs `host bench`.
    ///
    /// # Errors
    /// Missing data or blob, a blob without the int8 model, a failed training step.
    pub fn run(self) -> Result<()> {
        let blob = export::read_blob(&self.weights)?;
        let mnist = data::load(&self.data.data_dir)?;
        let opts = BenchOptions {
            images: self.images,
            rounds: self.rounds,
            train_steps: self.train_steps,
        };
        bench::run(blob.bytes(), &mnist, &Backend::Flex.device()?, &opts)
    }
}
