//! Selects the board's `memory.x`, adds the link scripts, and resolves the weight blob and the
//! golden vectors that the firmware embeds.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::exit;

/// Room kept in flash for everything but the blob and the golden vectors (code, read-only data,
/// vector table, ESP-IDF headers; firmware/README.md gives each board's total) when checking
/// that a blob fits a board's flash. The linker still has the last word ("region FLASH
/// overflowed").
const CODE_RESERVE: u64 = 64 * 1024;

/// The committed fixtures a build embeds when `LENET_BLOB` / `LENET_GOLDEN` are not set, and how
/// to make such a blob.
#[derive(Clone, Copy)]
struct Fixtures {
    /// Default `LENET_BLOB`, relative to `firmware/`.
    blob: &'static str,
    /// Default `LENET_GOLDEN`, relative to `firmware/`.
    golden: &'static str,
    /// How to make such a blob, as the missing-blob message puts it.
    make: &'static str,
    /// The host command (run from the repository root) that exports such a blob.
    export: &'static str,
    /// The file that command writes.
    exported: &'static str,
}

/// The int8 model (1,258,996 B): every board with more than 1 MiB of flash.
const INT8: Fixtures = Fixtures {
    blob: "../tests/fixtures/lenet-int8.blob",
    golden: "../tests/fixtures/golden.bin",
    make: "Train and export one from the repository root",
    export: "cargo run --release -p host -- train --export weights.bin",
    exported: "weights.bin",
};

/// The compact model, fc1 weights at 4 bits (about 637 KiB): boards with 1 MiB of flash.
const INT4: Fixtures = Fixtures {
    blob: "../tests/fixtures/lenet-int4.blob",
    golden: "../tests/fixtures/golden-int4.bin",
    make: "Export one from a trained checkpoint, from the repository root",
    export: "cargo run --release -p host -- quantize --load-model CHECKPOINT --weight-bits 4 \
             --export weights-int4.bin",
    exported: "weights-int4.bin",
};

/// A board profile: the cargo feature that selects it (none for the QEMU machines, which the
/// target selects), the cfg value of its glue module and its memory map (`memory/<name>.x`).
#[derive(Clone, Copy)]
struct Board {
    /// `board = "…"` cfg of the glue module, and the name of its memory map.
    name: &'static str,
    /// QEMU machine the runner starts for it; empty for a real board.
    qemu: &'static str,
    /// Bytes of flash the image may fill (its memory map's FLASH region, or the ESP32-C3's app
    /// partition); 0 for the QEMU machines, whose maps hold several MiB.
    flash: u64,
    /// The blob and golden vectors it embeds by default.
    fixtures: Fixtures,
}

/// The real boards, one cargo feature each, with the target each one needs.
const BOARD_FEATURES: [(&str, &str, Board); 5] = [
    (
        "NUCLEO_F429ZI",
        "thumbv7em-none-eabihf",
        Board {
            name: "nucleo-f429zi",
            qemu: "",
            flash: 2048 * 1024,
            fixtures: INT8,
        },
    ),
    (
        "RPI_PICO",
        "thumbv6m-none-eabi",
        Board {
            name: "rpi-pico",
            qemu: "",
            flash: 2048 * 1024 - 0x100,
            fixtures: INT8,
        },
    ),
    (
        "RPI_PICO2",
        "thumbv8m.main-none-eabihf",
        Board {
            name: "rpi-pico2",
            qemu: "",
            flash: 4096 * 1024,
            fixtures: INT8,
        },
    ),
    (
        "NRF52840_DK",
        "thumbv7em-none-eabihf",
        Board {
            name: "nrf52840-dk",
            qemu: "",
            flash: 1024 * 1024,
            fixtures: INT4,
        },
    ),
    (
        "ESP32C3",
        "riscv32imc-unknown-none-elf",
        Board {
            name: "esp32c3",
            qemu: "",
            flash: 4032 * 1024,
            fixtures: INT8,
        },
    ),
];

/// Every `board` cfg value (for `check-cfg`).
const BOARD_NAMES: [&str; 9] = [
    "mps2",
    "mps2-an505",
    "mps3-an547",
    "qemu-virt",
    "nucleo-f429zi",
    "rpi-pico",
    "rpi-pico2",
    "nrf52840-dk",
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
            flash: 0,
            fixtures: INT8,
        },
        ([], true) => fail(&format!(
            "feature mps3-an547 (Cortex-M55) needs --target thumbv8m.main-none-eabihf, not {target}"
        )),
        ([(_, needs, board)], false) if target == *needs => *board,
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
    Board {
        name,
        qemu,
        flash: 0,
        fixtures: INT8,
    }
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

    let fixtures = board.fixtures;
    let blob = input(&manifest, "LENET_BLOB", fixtures.blob);
    if !blob.is_file() {
        fail(&format!(
            "weight blob not found: {}\n\
             \n\
             {}:\n\
             \n    {}\n\
             \n\
             then build the firmware with LENET_BLOB=$PWD/{} (a relative path is\n\
             resolved against firmware/).",
            blob.display(),
            fixtures.make,
            fixtures.export,
            fixtures.exported
        ));
    }
    let golden = input(&manifest, "LENET_GOLDEN", fixtures.golden);
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
    let blob_len = fs::metadata(&blob).map(|m| m.len()).unwrap_or(0);
    let golden_len = fs::metadata(&golden).map(|m| m.len()).unwrap_or(0);
    // The records' format is lenet-core's (`lenet_core::golden`, docs/golden-vectors.md).
    let golden_problem = match fs::read(&golden) {
        Ok(bytes) => lenet_core::golden::Golden::parse(&bytes)
            .err()
            .map(|e| e.to_string()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(problem) = golden_problem {
        println!(
            "cargo:warning={}: {problem}: the self-test will reject it",
            golden.display()
        );
    }
    let room = board.flash.saturating_sub(golden_len + CODE_RESERVE);
    if board.flash > 0 && blob_len > room {
        fail(&format!(
            "weight blob too large for {}: {}\n\
             \n\
             It is {blob_len} bytes; the board's {} KiB of flash hold at most {room} bytes of\n\
             weights (after {golden_len} bytes of golden vectors and {} KiB kept for the code).\n\
             \n\
             This board takes the compact blob, fc1 weights at 4 bits (about 637 KiB). Export one\n\
             from a trained checkpoint, from the repository root:\n\
             \n    {}\n\
             \n\
             write its golden vectors with the host's `golden` command, then build the firmware\n\
             with LENET_BLOB=$PWD/{} and LENET_GOLDEN set to those vectors (a relative\n\
             path is resolved against firmware/).",
            board.name,
            blob.display(),
            board.flash / 1024,
            CODE_RESERVE / 1024,
            INT4.export,
            INT4.exported
        ));
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
