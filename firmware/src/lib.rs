//! LeNet MNIST int8 inference on Cortex-M, on top of `lenet-core`.
//!
//! The application logic ([`selftest`], [`service`]) is generic over `embedded-hal` 1.0
//! (`OutputPin`, `DelayNs`), `embedded-io` 0.7 (`Read`, `Write`, `ReadReady`) and
//! [`InferenceMeter`]; a [`board`] module adds the glue for one target:
//!
//! - QEMU `mps2-an386` (default): CMSDK UART0 and TIMER0, the FPGA LED, defmt over semihosting.
//! - NUCLEO-F429ZI (feature `nucleo-f429zi`): USART3, LED LD2, DWT cycles, defmt over RTT.
//!
//! The weight blob and the golden vectors are embedded at build time ([`assets`]).
#![no_std]

pub mod assets;
pub mod board;
pub mod golden;
pub mod kernel_check;
pub mod meter;
pub mod ram;
pub mod selftest;
pub mod service;

#[cfg(feature = "nucleo-f429zi")]
use defmt_rtt as _;
#[cfg(not(feature = "nucleo-f429zi"))]
use defmt_semihosting as _; // global logger: semihosting stdout, decoded by defmt-print // global logger: RTT, decoded by probe-rs

use cortex_m_rt::{ExceptionFrame, exception};
use lenet_core::shape::IN_LEN;
use lenet_core::{I8Model, Prediction, ScratchI8};

pub use meter::InferenceMeter;

/// Process exit codes reported through semihosting.
pub mod exit_code {
    /// Every check passed.
    pub const SUCCESS: i32 = 0;
    /// A golden vector did not match.
    pub const MISMATCH: i32 = 1;
    /// The embedded weight blob was rejected.
    pub const BAD_BLOB: i32 = 2;
    /// The embedded golden vectors were rejected.
    pub const BAD_GOLDEN: i32 = 3;
    /// A panic.
    pub const PANIC: i32 = 101;
    /// A HardFault.
    pub const HARD_FAULT: i32 = 102;
}

/// Runs the int8 network on one image. Kept out of line so that its code (and what it calls)
/// can be inspected in the ELF: `scripts/check-no-float.sh` checks it holds no FPU instruction.
#[inline(never)]
pub fn classify(
    model: &I8Model<'_>,
    pixels: &[u8; IN_LEN],
    scratch: &mut ScratchI8,
) -> Prediction<i8> {
    model.predict(pixels, scratch)
}

/// Ends the program with `code`: a semihosting exit under QEMU or a debugger (probe-rs reports
/// it); on a board without a debugger, a reset.
pub fn exit(code: i32) -> ! {
    #[cfg(feature = "nucleo-f429zi")]
    if !cortex_m::peripheral::DCB::is_debugger_attached() {
        cortex_m::peripheral::SCB::sys_reset();
    }
    semihosting::process::exit(code)
}

/// Logs where the panic happened. `defmt` panics have logged their message already; the
/// message of a `core` panic is not formatted, which keeps `core::fmt` (about 6 KB) out of flash.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(at) => defmt::error!("panic at {=str}:{=u32}", at.file(), at.line()),
        None => defmt::error!("panic"),
    }
    exit(exit_code::PANIC)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    defmt::error!("HardFault at pc={=u32:#010x}", frame.pc());
    exit(exit_code::HARD_FAULT)
}
