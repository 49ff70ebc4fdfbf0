//! Writes the rounding-tie stress set: `tests/fixtures/tie-stress.blob` and
//! `tests/fixtures/golden-tie-stress.bin` (or into the directory given as the only argument),
//! after checking that it exercises what `parity::tie_stress::MINIMUM` requires.
//!
//! ```text
//! cargo run -p parity --bin make_tie_stress [DIR]
//! ```
//!
//! The output is deterministic: `tests/tests/tie_stress.rs` regenerates it and compares it
//! byte for byte with the committed files.

use std::path::PathBuf;
use std::process::ExitCode;

use lenet_core::Model;
use lenet_core::aligned::AlignedBytes;
use parity::tie_stress::{self, Summary};

fn main() -> ExitCode {
    let dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        PathBuf::from,
    );
    let blob = AlignedBytes::new(&tie_stress::blob());
    let model = Model::parse(blob.bytes()).expect("the crafted blob parses");
    let m = model
        .int8()
        .expect("the crafted blob carries the int8 model");
    let golden = tie_stress::golden_file(m);
    let records = lenet_core::golden::Golden::parse(&golden).expect("a golden file");
    for (i, r) in records.records().enumerate() {
        let p = r.prediction();
        println!("record {i:2}: digit {} logits {:?}", p.digit, p.logits);
    }
    let summary = Summary::of(m, &golden);
    println!("{summary:#?}");
    if let Err(e) = summary.check() {
        eprintln!("error: the stress set falls short: {e}");
        return ExitCode::FAILURE;
    }
    for (name, bytes) in [
        (tie_stress::BLOB_FILE, blob.bytes()),
        (tie_stress::GOLDEN_FILE, &golden[..]),
    ] {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, bytes) {
            eprintln!("error: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {} ({} B)", path.display(), bytes.len());
    }
    ExitCode::SUCCESS
}
