//! `host`: train, quantize, evaluate and export the LeNet MNIST classifier.
//!
//! This file parses and dispatches; every command lives in `cli/<command>.rs` with its clap
//! arguments and its body.

mod cli;

use anyhow::Result;
use cli::{Cli, Command};

fn main() -> Result<()> {
    match Cli::parse_checked().command {
        Command::Train(a) => a.run(),
        Command::Eval(a) => a.run(),
        Command::Curve(a) => a.run(),
        Command::Predict(a) => a.run(),
        Command::Quantize(a) => a.run(),
        Command::Golden(a) => a.run(),
        Command::Classify(a) => a.run(),
        Command::Bench(a) => a.run(),
        Command::Inspect(a) => a.run(),
        Command::Demo(a) => a.run(),
    }
}
