//! Placeholder for riscv-rt 0.12: rp235x-hal 0.4 depends on it only when it is built for the
//! RP2350's Hazard3 RISC-V cores (`riscv32imac-unknown-none-elf`), which this workspace never
//! does (`rpi-pico2` builds for the Cortex-M33). It exists because Cargo resolves the dependencies
//! of every target into one lock file, and riscv-rt 0.12 and 0.16 (the QEMU `virt` runtime) both
//! declare `links = "riscv-rt"`, which a dependency graph may hold once.
#![no_std]

compile_error!(
    "riscv-rt 0.12 is a placeholder here: the firmware builds rp235x-hal for the RP2350's \
     Cortex-M33 (`--target thumbv8m.main-none-eabihf --features rpi-pico2`) only"
);
