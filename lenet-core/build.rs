//! Sets `cfg(lenet_arm_dsp)` when compiling for an Arm target with the DSP extension (SMLAD,
//! SXTB16, SXTAB16), which selects `kernels::arm`'s `asm!` kernels. This is the one place that
//! maps a target to its kernels; everything else runs the portable twins.
//!
//! `cfg(target_feature = "dsp")` cannot be used directly: Arm target features are unstable, so a
//! stable compiler never reports them in `cfg`, not even on `thumbv7em-*` where DSP is always
//! present, nor for `-C target-cpu=cortex-m33`. The target decides instead (the approach of the
//! `cortex-m` crate's build script):
//!
//! - `thumbv7em-*` (Cortex-M4, M7): always;
//! - `thumbv8m.main-*` (Cortex-M33, M35P, M55, M85): when the rustflags name a CPU with the DSP
//!   extension (`-C target-cpu=cortex-m33` and the like) or enable it (`-C target-feature=+dsp`);
//!   plain `thumbv8m.main` does not assume it, since the extension is optional in ARMv8-M;
//! - `thumbv6m-*`, `thumbv7m-*`, `thumbv8m.base-*`, RISC-V and hosts: never.
//!
//! A feature list that does report `dsp` (a future compiler) is honoured as well.
//!
//! It also sets `cfg(lenet_arm_mve)`, which selects `kernels::mve`'s Helium (MVE) dot products
//! for the int8 convolutions and dense layers, on `thumbv8m.main-*` when the rustflags enable
//! Helium (`-C target-feature=+mve`, or `+mve.fp`) or name a CPU that has it (`cortex-m55`,
//! `cortex-m85`). Helium implies the DSP extension, so `lenet_arm_dsp` is set too (the int4
//! layer keeps the DSP loop).

/// CPUs of the ARMv8-M Mainline profile that always implement the DSP extension.
const DSP_CPUS: [&str; 4] = ["cortex-m33", "cortex-m35p", "cortex-m55", "cortex-m85"];

/// CPUs of the ARMv8.1-M Mainline profile that implement Helium (MVE).
const MVE_CPUS: [&str; 2] = ["cortex-m55", "cortex-m85"];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    println!("cargo::rustc-check-cfg=cfg(lenet_arm_dsp)");
    println!("cargo::rustc-check-cfg=cfg(lenet_arm_mve)");
    let target = std::env::var("TARGET").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let rustflags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let flags: Vec<&str> = rustflags.split('\x1f').collect();
    let v8m_main = target.starts_with("thumbv8m.main-") || target.starts_with("thumbv8.1m.main-");
    let has_mve = (arch == "arm" && features.split(',').any(|f| f == "mve"))
        || (v8m_main && names(&flags, &["+mve", "+mve.fp"], &MVE_CPUS));
    let has_dsp = has_mve
        || target.starts_with("thumbv7em-")
        || (arch == "arm" && features.split(',').any(|f| f == "dsp"))
        || (v8m_main && names(&flags, &["+dsp"], &DSP_CPUS));
    if has_dsp {
        println!("cargo::rustc-cfg=lenet_arm_dsp");
    }
    if has_mve {
        println!("cargo::rustc-cfg=lenet_arm_mve");
    }
}

/// Whether the rustflags enable one of `enables` (`-C target-feature=+x`) or select one of
/// `cpus`. Both the `-C target-cpu=X` and the `-Ctarget-cpu=X` spellings are read; the last
/// `target-cpu` wins, as it does for rustc.
fn names(flags: &[&str], enables: &[&str], cpus: &[&str]) -> bool {
    let mut codegen = Vec::new();
    let mut it = flags.iter();
    while let Some(&flag) = it.next() {
        if flag == "-C" || flag == "--codegen" {
            if let Some(&value) = it.next() {
                codegen.push(value);
            }
        } else if let Some(value) = flag.strip_prefix("-C") {
            codegen.push(value);
        }
    }
    let cpu = codegen
        .iter()
        .rev()
        .find_map(|c| c.strip_prefix("target-cpu="));
    let feature = codegen.iter().any(|c| {
        c.strip_prefix("target-feature=")
            .is_some_and(|list| list.split(',').any(|f| enables.contains(&f)))
    });
    feature || cpu.is_some_and(|cpu| cpus.contains(&cpu))
}
