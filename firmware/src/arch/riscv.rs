//! RISC-V (riscv-rt): entry, exception trap, RAM bounds, stack painting.

pub use riscv_rt::entry;

use crate::exit_code;

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

fn addr(symbol: *const u32) -> u32 {
    symbol as u32
}

/// `.data`, `.bss`, `.uninit` and the stack region as `[start, end)` address pairs, from the
/// linker symbols of riscv-rt.
pub fn regions() -> crate::ram::Regions {
    crate::ram::Regions {
        data: (addr(&raw const __sdata), addr(&raw const __edata)),
        bss: (addr(&raw const __sbss), addr(&raw const __ebss)),
        uninit: (addr(&raw const __suninit), addr(&raw const __euninit)),
        stack: (addr(&raw const __estack), addr(&raw const _stack_start)),
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
