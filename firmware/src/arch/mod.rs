//! What differs between CPU architectures and their runtime crates: the entry attribute, the
//! fault handler, the bounds of RAM for [`crate::ram`] and stack painting.
//!
//! - Arm (`cortex_m`): cortex-m-rt, which also paints the stack at reset (`paint-stack`).
//! - RISC-V (`riscv`): riscv-rt, alone under QEMU or under esp-riscv-rt and esp-hal on the
//!   ESP32-C3; the stack is painted after RAM init.

#[cfg(target_arch = "arm")]
mod cortex_m;
#[cfg(target_arch = "arm")]
pub use cortex_m::*;

#[cfg(target_arch = "riscv32")]
mod riscv;
#[cfg(target_arch = "riscv32")]
pub use riscv::*;
