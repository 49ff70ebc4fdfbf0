//! LeNet MNIST int8 inference on microcontrollers, on top of `lenet-core`.
//!
//! The application logic ([`selftest`], [`service`]) is generic over `embedded-hal` 1.0
//! (`OutputPin`, `DelayNs`), `embedded-io` 0.7 (`Read`, `Write`, `ReadReady`) and
//! [`InferenceMeter`]; a [`board`] module adds the glue for one target (its peripherals, its
//! memory map in `memory/`, its defmt transport), chosen by `build.rs`:
//!
//! - QEMU `mps2-an385` / `mps2-an386` / `mps2-an500` (Cortex-M3 / M4F / M7, the `mps2` glue for
//!   `thumbv6m`, `thumbv7m` and `thumbv7em`), `mps2-an505` (Cortex-M33), `mps3-an547`
//!   (Cortex-M55, feature `mps3-an547`) and RISC-V `virt` (`riscv32imc`), with defmt over
//!   semihosting;
//! - NUCLEO-F429ZI (feature `nucleo-f429zi`): USART3, LED LD2, DWT cycles, defmt over RTT;
//! - Raspberry Pi Pico (feature `rpi-pico`, `thumbv6m-none-eabi`): UART0 on GPIO0/1, LED GPIO25,
//!   cycles from the 1 MHz timer, defmt over RTT;
//! - Raspberry Pi Pico 2 (feature `rpi-pico2`, `thumbv8m.main-none-eabihf`): UART0 on GPIO0/1,
//!   LED GPIO25, DWT cycles, defmt over RTT;
//! - ESP32-C3 (feature `esp32c3`, `riscv32imc-unknown-none-elf`): UART0 (USB-UART bridge),
//!   GPIO8, `mpccr` cycles, defmt framed for espflash on UART0.
//!
//! Which int8 kernels run is decided by the target alone, in lenet-core's `build.rs` (the Arm
//! DSP `asm!` kernels on `thumbv7em` and DSP-capable `thumbv8m.main` CPUs, the portable twins
//! elsewhere), never by the board. The weight blob and the golden vectors are embedded at build
//! time ([`assets`]).
#![no_std]

pub mod arch;
pub mod assets;
pub mod board;
pub mod golden;
pub mod kernel_check;
pub mod meter;
pub mod ram;
pub mod selftest;
pub mod service;

use core::cell::{Cell, UnsafeCell};

use lenet_core::aligned::{A4, Aligned};
use lenet_core::shape::IN_LEN;
use lenet_core::{I8Model, Prediction, ScratchI8};

pub use arch::entry;
pub use board::exit;
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
    /// A HardFault (Arm) or an exception trap (RISC-V).
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

/// A static value handed out once as `&'static mut`: the scratch buffers of the binaries.
///
/// `cortex_m::singleton!` does this on Arm only, and `static_cell` needs compare-and-swap atomics,
/// which neither ARMv6-M nor RV32IMC has; a flag behind `critical-section` works on every core.
///
/// The value comes first and is word-aligned ([`Aligned`]), so byte buffers start on a word
/// boundary.
#[repr(transparent)]
pub struct Once<T>(Aligned<A4, Slot<T>>);

/// The value of a [`Once`] and whether it was taken.
#[repr(C)]
struct Slot<T> {
    value: UnsafeCell<T>,
    taken: critical_section::Mutex<Cell<bool>>,
}

// SAFETY: the value is reachable only through `take`, which hands out one reference in total
// (the flag is read and set inside one critical section).
unsafe impl<T: Send> Sync for Once<T> {}

impl<T> Once<T> {
    /// A value not yet taken.
    pub const fn new(value: T) -> Self {
        Self(Aligned::new(Slot {
            value: UnsafeCell::new(value),
            taken: critical_section::Mutex::new(Cell::new(false)),
        }))
    }

    /// The value, the first time; `None` after that.
    #[allow(clippy::mut_from_ref)] // one `&mut` in total: the flag makes every later call `None`
    pub fn take(&'static self) -> Option<&'static mut T> {
        let slot = &*self.0;
        let first = critical_section::with(|cs| !slot.taken.borrow(cs).replace(true));
        // SAFETY: only the first call gets here, so this is the only reference ever made.
        first.then(|| unsafe { &mut *slot.value.get() })
    }
}

/// The int8 scratch buffers (about 7.5 KiB of static RAM), once.
///
/// # Panics
/// On a second call.
pub fn scratch() -> &'static mut ScratchI8 {
    static SCRATCH: Once<ScratchI8> = Once::new(ScratchI8::new());
    defmt::unwrap!(SCRATCH.take(), "scratch taken twice")
}

/// Logs where the panic happened. `defmt` panics have logged their message already; the
/// message of a `core` panic is not formatted, which keeps `core::fmt` (about 6 KiB) out of flash.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(at) => defmt::error!("panic at {=str}:{=u32}", at.file(), at.line()),
        None => defmt::error!("panic"),
    }
    exit(exit_code::PANIC)
}
