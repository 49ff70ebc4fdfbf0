//! RISC-V: entry, exception trap, RAM bounds, stack painting, on two runtimes that both start
//! through riscv-rt 0.16 (its `_start`, RAM init, `__post_init` hook and trap dispatch):
//!
//! - QEMU `virt` (`board = "qemu-virt"`): riscv-rt alone, with its `link.x` over
//!   `memory/qemu-virt.x`, and the single-hart critical section below.
//! - ESP32-C3 (`board = "esp32c3"`): esp-riscv-rt on top of riscv-rt, esp-hal's linker scripts
//!   (`linkall.x`) and esp-hal's critical section; the ESP-IDF second-stage bootloader has
//!   loaded `.data` already. esp-hal's `hal_main` runs between `__post_init` and `main`, and
//!   writes its stack guard word 60 bytes above the bottom of the stack: the stack region of
//!   [`regions`] starts above that word.

#[cfg(board = "esp32c3")]
pub use esp_hal::main as entry;
#[cfg(board = "qemu-virt")]
pub use riscv_rt::entry;

use crate::exit_code;

#[cfg(board = "qemu-virt")]
unsafe extern "C" {
    static __sdata: u32;
    static __edata: u32;
    static __sbss: u32;
    static __ebss: u32;
    static __suninit: u32;
    static __euninit: u32;
    static __estack: u32;
    static _stack_start: u32;
}

#[cfg(board = "esp32c3")]
unsafe extern "C" {
    static _data_start: u32;
    static _data_end: u32;
    static _bss_start: u32;
    static _bss_end: u32;
    static _noinit_end: u32;
    static __stack_chk_guard: u32;
    static _stack_start: u32;
}

fn addr(symbol: *const u32) -> u32 {
    symbol as u32
}

/// `.data`, `.bss`, `.uninit` and the stack region as `[start, end)` address pairs, from the
/// linker symbols of riscv-rt.
#[cfg(board = "qemu-virt")]
pub fn regions() -> crate::ram::Regions {
    crate::ram::Regions {
        data: (addr(&raw const __sdata), addr(&raw const __edata)),
        bss: (addr(&raw const __sbss), addr(&raw const __ebss)),
        uninit: (addr(&raw const __suninit), addr(&raw const __euninit)),
        stack: (addr(&raw const __estack), addr(&raw const _stack_start)),
    }
}

/// `.data`, `.bss`, `.noinit` (which holds `.uninit`) and the stack region as `[start, end)`
/// address pairs, from the linker symbols of esp-hal's scripts. `.noinit` is the 4-aligned
/// section right after `.bss`; the stack region runs from just above esp-hal's stack guard word
/// (`__stack_chk_guard`, near the bottom of `.stack`) to the top of DRAM.
#[cfg(board = "esp32c3")]
pub fn regions() -> crate::ram::Regions {
    let bss_end = addr(&raw const _bss_end);
    crate::ram::Regions {
        data: (addr(&raw const _data_start), addr(&raw const _data_end)),
        bss: (addr(&raw const _bss_start), bss_end),
        uninit: (bss_end.next_multiple_of(4), addr(&raw const _noinit_end)),
        stack: (
            addr(&raw const __stack_chk_guard) + 4,
            addr(&raw const _stack_start),
        ),
    }
}

/// The critical section of the QEMU build: one hart, so masking machine interrupts
/// (`mstatus.MIE`) excludes everything else. The restore state is the previous MIE bit, in the
/// `u32` that esp-hal's implementation also uses (the two builds share the `critical-section`
/// features, see `Cargo.toml`).
#[cfg(board = "qemu-virt")]
mod single_hart {
    struct SingleHart;
    critical_section::set_impl!(SingleHart);

    /// `mstatus.MIE`.
    const MIE: usize = 1 << 3;

    // SAFETY: on a single hart, with machine interrupts masked from `acquire` to `release`,
    // nothing else runs; `release` restores the state that `acquire` found.
    unsafe impl critical_section::Impl for SingleHart {
        unsafe fn acquire() -> critical_section::RawRestoreState {
            let mstatus: usize;
            // SAFETY: clears MIE and reads the previous mstatus in one instruction.
            unsafe { core::arch::asm!("csrrci {}, mstatus, 0b1000", out(reg) mstatus) };
            u32::from(mstatus & MIE != 0)
        }

        unsafe fn release(was_enabled: critical_section::RawRestoreState) {
            if was_enabled != 0 {
                // SAFETY: interrupts were enabled when the outermost section began.
                unsafe { riscv::interrupt::enable() };
            }
        }
    }
}

/// The core: the firmware is RV32IMC code whatever extensions the hart has.
pub fn core_name() -> &'static str {
    "RISC-V RV32"
}

/// Paints the unused stack (from the bottom of the stack region to just below this function's
/// frame) with [`crate::ram::PAINT`], as cortex-m-rt's `paint-stack` does at reset. riscv-rt
/// calls it after RAM init, before `main`.
#[riscv_rt::post_init]
fn paint_stack() {
    let sp: u32;
    // SAFETY: reads the stack pointer; no memory, no side effect.
    unsafe { core::arch::asm!("mv {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    let (bottom, _) = regions().stack;
    // Leave 256 bytes below the stack pointer for this loop's own calls (it makes none).
    let mut word = bottom;
    while word + 256 < sp {
        // SAFETY: `[bottom, sp)` is stack memory no frame uses yet.
        unsafe { core::ptr::write_volatile(word as *mut u32, crate::ram::PAINT) };
        word += 4;
    }
}

/// Every exception trap (illegal instruction, misaligned or faulting access, ...) ends the run,
/// as a HardFault does on Arm.
#[unsafe(export_name = "ExceptionHandler")]
fn exception_handler(frame: &riscv_rt::TrapFrame) -> ! {
    let mcause = riscv::register::mcause::read().bits();
    let mepc = riscv::register::mepc::read();
    defmt::error!(
        "exception: mcause={=usize:#x} mepc={=usize:#010x} ra={=usize:#010x}",
        mcause,
        mepc,
        frame.ra
    );
    crate::exit(exit_code::HARD_FAULT)
}
