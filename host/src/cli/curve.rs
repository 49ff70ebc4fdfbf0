//! `host curve`: draw the training curve of a checkpoint from its `.json` history.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use host::{pictures, train};

/// Options of `host curve`.
#[derive(Args)]
pub struct CurveArgs {
    /// The checkpoint (its `<path>.json` holds the history).
    pub checkpoint: PathBuf,
    /// Output PNG.
    #[arg(long)]
    pub out: PathBuf,
}

impl CurveArgs {
    /// Runs `host curve`.
    ///
    /// # Errors
    /// A missing or malformed metadata file, or a failed PNG write.
    pub fn run(self) -> Result<()> {
        let meta = train::load_meta(&self.checkpoint)?;
        pictures::training_curve(&meta.history, &self.out)?;
        println!("wrote {}", self.out.display());
        Ok(())
    }
}
