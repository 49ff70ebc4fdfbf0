//! Cortex-M (cortex-m-rt): entry, HardFault, RAM bounds.

use cortex_m_rt::{ExceptionFrame, exception};

pub use cortex_m_rt::entry;

use crate::exit_code;

unsafe extern "C" {
    static __sdata: u32;
    static __edata: u32;
    static __sbss: u32;
    static __ebss: u32;
    static __suninit: u32;
    static __euninit: u32;
    static _stack_start: u32;
    static _stack_end: u32;
}

fn addr(symbol: *const u32) -> u32 {
    symbol as u32
}

/// `.data`, `.bss`, `.uninit` and the stack region as `[start, end)` address pairs, from the
/// linker symbols of cortex-m-rt.
pub fn regions() -> crate::ram::Regions {
    crate::ram::Regions {
        data: (addr(&raw const __sdata), addr(&raw const __edata)),
        bss: (addr(&raw const __sbss), addr(&raw const __ebss)),
        uninit: (addr(&raw const __suninit), addr(&raw const __euninit)),
        stack: (addr(&raw const _stack_end), addr(&raw const _stack_start)),
    }
}

/// The core, from the CPUID register's part number (`"Cortex-M4"`, ...).
pub fn core_name() -> &'static str {
    // SAFETY: CPUID is a read-only identification register.
    let cpuid = unsafe { (*cortex_m::peripheral::CPUID::PTR).base.read() };
    match (cpuid >> 4) & 0xFFF {
        0xC20 => "Cortex-M0",
        0xC60 => "Cortex-M0+",
        0xC23 => "Cortex-M3",
        0xC24 => "Cortex-M4",
        0xC27 => "Cortex-M7",
        0xD20 => "Cortex-M23",
        0xD21 => "Cortex-M33",
        0xD22 => "Cortex-M55",
        0xD23 => "Cortex-M85",
        _ => "Cortex-M (unknown part)",
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    defmt::error!("HardFault at pc={=u32:#010x}", frame.pc());
    crate::exit(exit_code::HARD_FAULT)
}
