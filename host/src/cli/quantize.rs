//! `host quantize`: quantize a checkpoint and export a blob.

use std::path::PathBuf;

use anyhow::Result;
use clap::{ArgMatches, Args};
use host::data;
use host::int4::Rounding;
use host::model::Act;
use host::quantize::{Granularity, Int8Options, Precision, WeightBits};
use host::train::{self, Backend};

use super::report::export_blob;
use super::{DataArgs, check_int8_options};

/// Options of `host quantize`.
#[derive(Args)]
pub struct QuantizeArgs {
    /// The checkpoint.
    #[arg(long)]
    pub load_model: PathBuf,
    /// Output blob.
    #[arg(long)]
    pub export: PathBuf,
    /// Models to include.
    #[arg(long, value_enum, default_value_t = Precision::Int8)]
    pub precision: Precision,
    /// Training images used to calibrate activation ranges.
    #[arg(long, default_value_t = 3000)]
    pub calibration: usize,
    /// Weight scales of the dense layers (the convolutions always get one per channel):
    /// per tensor gives the smallest blob, per channel about 4 KiB more.
    #[arg(long, value_enum, default_value_t = Granularity::PerTensor)]
    pub dense_scales: Granularity,
    /// Bits per fc1 weight: 8, or 4 for the compact blob (about 637 KiB; one scale per output
    /// unit) that boards with 1 MiB of flash hold.
    #[arg(long, value_enum, default_value_t = WeightBits::Eight)]
    pub weight_bits: WeightBits,
    /// How int4 weights are rounded (with `--weight-bits 4`): to nearest, or by GPTQ, which
    /// spreads each rounding error over the weights not yet rounded using the calibration
    /// images.
    #[arg(long, value_enum, default_value_t = Rounding::Nearest)]
    pub int4_rounding: Rounding,
    /// Where the MNIST files are.
    #[command(flatten)]
    pub data: DataArgs,
}

impl QuantizeArgs {
    /// The checks clap cannot declare: the int8 options with `--precision f32`; `matches`
    /// are this subcommand's.
    ///
    /// # Errors
    /// The message of the invalid combination.
    pub fn check(&self, matches: &ArgMatches) -> Result<(), String> {
        check_int8_options(matches, self.precision, self.weight_bits)
    }

    /// Runs `host quantize`.
    ///
    /// # Errors
    /// An unreadable checkpoint, missing data, or a failed quantization or write.
    pub fn run(self) -> Result<()> {
        let device = Backend::Flex.device()?;
        let (model, _) = train::load_checkpoint(&self.load_model, Act::Relu, &device)?;
        let mnist = data::load(&self.data.data_dir)?;
        export_blob(
            &model,
            &self.export,
            self.precision,
            &mnist.train,
            &Int8Options {
                calibration: self.calibration,
                dense: self.dense_scales,
                fc1_bits: self.weight_bits,
                rounding: self.int4_rounding,
            },
            &mnist.test,
        )
    }
}
