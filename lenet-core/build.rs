//! Sets `cfg(lenet_arm_dsp)` when compiling for a target with the Armv7E-M DSP extension
//! (SMLAD, SXTB16, SXTAB16), which selects `kernels::arm`'s `asm!` helpers.
//!
//! `cfg(target_feature = "dsp")` cannot be used directly: Arm target features are unstable, so a
//! stable compiler never sets them in `cfg`, not even on `thumbv7em-*` where DSP is always
//! present. The target name decides instead (the approach of the `cortex-m` crate's build
//! script); the feature list is also honoured where a compiler does report it.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(lenet_arm_dsp)");
    let target = std::env::var("TARGET").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let has_dsp = target.starts_with("thumbv7em-")
        || (arch == "arm" && features.split(',').any(|f| f == "dsp"));
    if has_dsp {
        println!("cargo::rustc-cfg=lenet_arm_dsp");
    }
}
