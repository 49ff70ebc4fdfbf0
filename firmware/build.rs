//! Selects the board's `memory.x`, adds the link scripts, and resolves the weight blob and the
//! golden vectors that the firmware embeds.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::exit;

/// Size of one golden record: 784 pixels, label, expected digit, 10 expected logits.
const GOLDEN_RECORD: u64 = 796;

/// A board profile: the cargo feature that selects it (none for the QEMU machines, which the
/// target selects), the cfg value of its glue module and its memory map (`memory/<name>.x`).
struct Board {
    /// `board = "…"` cfg of the glue module, and the name of its memory map.
    name: &'static str,
    /// QEMU machine the runner starts for it; empty for a real board.
    qemu: &'static str,
}

/// The real boards, one cargo feature each, with the target each one needs.
const BOARD_FEATURES: [(&str, &str, Board); 4] = [
    (
        "NUCLEO_F429ZI",
        "thumbv7em-none-eabihf",
        Board {
            name: "nucleo-f429zi",
            qemu: "",
        },
    ),
    (
        "RPI_PICO",
        "thumbv6m-none-eabi",
        Board {
            name: "rpi-pico",
            qemu: "",
        },
    ),
    (
        "RPI_PICO2",
        "thumbv8m.main-none-eabihf",
        Board {
            name: "rpi-pico2",
            qemu: "",
        },
    ),
    (
        "ESP32C3",
        "riscv32imc-unknown-none-elf",
        Board {
            name: "esp32c3",
            qemu: "",
        },
    ),
];

/// Every `board` cfg value (for `check-cfg`).
const BOARD_NAMES: [&str; 8] = [
    "mps2",
    "mps2-an505",
    "mps3-an547",
    "qemu-virt",
    "nucleo-f429zi",
    "rpi-pico",
    "rpi-pico2",
    "esp32c3",
];

/// The board of this build: the one board feature that is on, or the QEMU machine of the target.
fn board(target: &str) -> Board {
    let chosen: Vec<&(&str, &str, Board)> = BOARD_FEATURES
        .iter()
        .filter(|(feature, _, _)| env::var_os(format!("CARGO_FEATURE_{feature}")).is_some())
        .collect();
    let an547 = env::var_os("CARGO_FEATURE_MPS3_AN547").is_some();
    match (chosen.as_slice(), an547) {
        ([], false) => qemu_board(target),
        ([], true) if target.starts_with("thumbv8m.main-") => Board {
            name: "mps3-an547",
            qemu: "mps3-an547",
        },
        ([], true) => fail(&format!(
            "feature mps3-an547 (Cortex-M55) needs --target thumbv8m.main-none-eabihf, not {target}"
        )),
        ([(_, needs, board)], false) if target == *needs => Board {
            name: board.name,
            qemu: board.qemu,
        },
        ([(_, needs, board)], false) => fail(&format!(
            "feature {} needs --target {needs}, not {target}",
            board.name
        )),
        _ => fail("choose at most one board feature"),
    }
}

/// The QEMU machine that runs `target` when no board feature is chosen.
fn qemu_board(target: &str) -> Board {
    let (name, qemu) = if target.starts_with("thumbv6m-") || target.starts_with("thumbv7m-") {
        // ARMv6-M code runs on the Cortex-M3 of mps2-an385: no QEMU board has a Cortex-M0 with
        // room for the blob (docs/footprint.md).
        ("mps2", "mps2-an385")
    } else if target.starts_with("thumbv7em-") {
        // The same image also runs on mps2-an500 (Cortex-M7): QEMU_MACHINE=mps2-an500.
        ("mps2", "mps2-an386")
    } else if target.starts_with("thumbv8m.main-") {
        ("mps2-an505", "mps2-an505")
    } else if target.starts_with("riscv32") {
        ("qemu-virt", "virt")
    } else {
        fail(&format!(
            "no board for target {target}: build from firmware/ (its .cargo/config.toml sets the \
             target), or pass --target with one of thumbv6m-none-eabi, thumbv7m-none-eabi, \
             thumbv7em-none-eabihf, thumbv8m.main-none-eabihf, riscv32imc-unknown-none-elf"
        ))
    };
    Board { name, qemu }
}

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let target = env::var("TARGET").unwrap_or_default();

    let board = board(&target);
    // ARMv6-M builds (Cortex-M0/M0+ code) trap unaligned accesses, as those cores do, even on
    // the Cortex-M3 that runs them under QEMU.
    println!("cargo::rustc-check-cfg=cfg(armv6m)");
    if target.starts_with("thumbv6m-") {
        println!("cargo::rustc-cfg=armv6m");
    }
    let names = BOARD_NAMES.map(|n| format!("\"{n}\"")).join(", ");
    println!("cargo::rustc-check-cfg=cfg(board, values({names}))");
    println!("cargo::rustc-cfg=board=\"{}\"", board.name);
    println!("cargo::rustc-env=LENET_QEMU_MACHINE={}", board.qemu);
    if board.name == "esp32c3" {
        // esp-hal ships the memory map and the linker scripts: linkall.x includes its memory.x
        // and the section layout that esp-riscv-rt (on top of riscv-rt) and the ESP-IDF
        // bootloader expect. No memory.x of ours may shadow esp-hal's on the search path.
        let _ = fs::remove_file(out.join("memory.x"));
        println!("cargo::rustc-link-arg-bins=-Tlinkall.x");
    } else {
        let memory = manifest.join("memory").join(format!("{}.x", board.name));
        fs::copy(&memory, out.join("memory.x")).expect("copy memory.x into OUT_DIR");
        println!("cargo::rerun-if-changed={}", memory.display());
        println!("cargo::rustc-link-search={}", out.display());
        if target.starts_with("riscv") {
            // riscv-rt's link.x expects the memory map (and its region aliases) before it.
            println!("cargo::rustc-link-arg-bins=-Tmemory.x");
            println!("cargo::rustc-link-arg-bins=-Tlink.x");
        } else {
            println!("cargo::rustc-link-arg-bins=--nmagic");
            println!("cargo::rustc-link-arg-bins=-Tlink.x");
        }
    }
    println!("cargo::rustc-link-arg-bins=-Tdefmt.x");

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
