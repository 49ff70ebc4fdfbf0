//! Selects the board's `memory.x`, adds the link scripts, and resolves the weight blob and the
//! golden vectors that the firmware embeds.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::exit;

/// Size of one golden record: 784 pixels, label, expected digit, 10 expected logits.
const GOLDEN_RECORD: u64 = 796;

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));

    let board = if env::var_os("CARGO_FEATURE_NUCLEO_F429ZI").is_some() {
        "nucleo-f429zi"
    } else {
        "mps2-an386"
    };
    let memory = manifest.join("memory").join(format!("{board}.x"));
    fs::copy(&memory, out.join("memory.x")).expect("copy memory.x into OUT_DIR");
    println!("cargo:rerun-if-changed={}", memory.display());
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=--nmagic");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-link-arg-bins=-Tdefmt.x");

    let blob = input(&manifest, "LENET_BLOB", "../tests/fixtures/lenet-int8.blob");
    if !blob.is_file() {
        fail(&format!(
            "weight blob not found: {}\n\
             \n\
             Train and export one from the repository root:\n\
             \n    cargo run --release -p host -- train --export weights.bin\n\
             \n\
             then build the firmware with LENET_BLOB=$PWD/weights.bin (a relative path is\n\
             resolved against firmware/).",
            blob.display()
        ));
    }
    let golden = input(&manifest, "LENET_GOLDEN", "../tests/fixtures/golden.bin");
    if !golden.is_file() {
        fail(&format!(
            "golden vectors not found: {}\n\
             \n\
             Write them with the host's `golden` command for the same blob (see\n\
             `cargo run --release -p host -- golden --help`), then build with\n\
             LENET_GOLDEN=$PWD/golden.bin (a relative path is resolved against firmware/).",
            golden.display()
        ));
    }
    let golden_len = fs::metadata(&golden).map(|m| m.len()).unwrap_or(0);
    if !golden_len.is_multiple_of(GOLDEN_RECORD) {
        println!(
            "cargo:warning={} is {golden_len} bytes, not a multiple of {GOLDEN_RECORD}: the self-test will reject it",
            golden.display()
        );
    }
    println!("cargo:rustc-env=LENET_BLOB_PATH={}", blob.display());
    println!("cargo:rustc-env=LENET_GOLDEN_PATH={}", golden.display());
}

/// The path in `var`, or `default`; relative paths are resolved against the firmware directory.
fn input(manifest: &Path, var: &str, default: &str) -> PathBuf {
    println!("cargo:rerun-if-env-changed={var}");
    let path = env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    let path = if path.is_absolute() {
        path
    } else {
        manifest.join(path)
    };
    let path = fs::canonicalize(&path).unwrap_or(path);
    println!("cargo:rerun-if-changed={}", path.display());
    path
}

fn fail(message: &str) -> ! {
    eprintln!("\nerror: {message}\n");
    exit(1)
}
