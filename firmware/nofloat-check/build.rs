//! Links against the QEMU memory map (the binary is inspected, never run).

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    fs::copy("../memory/mps2.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rerun-if-changed=../memory/mps2.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
}
