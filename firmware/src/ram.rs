//! RAM figures: static data from the linker symbols, peak stack by stack painting.
//!
//! cortex-m-rt's `paint-stack` feature fills `[_stack_end, _stack_start)` with
//! `0xCCCC_CCCC` at reset, before `main`. The lowest word that no longer holds the paint marks
//! the deepest the stack has reached (the high-water mark).

use cortex_m_rt::heap_start;

const PAINT: u32 = 0xCCCC_CCCC;

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

/// RAM use, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, defmt::Format)]
pub struct RamUsage {
    /// Initialised statics (`.data`).
    pub data: u32,
    /// Zeroed statics (`.bss`).
    pub bss: u32,
    /// Uninitialised statics (`.uninit`).
    pub uninit: u32,
    /// The stack region: from the end of the statics to the top of RAM.
    pub stack_region: u32,
    /// The deepest the stack has reached so far.
    pub peak_stack: u32,
}

impl RamUsage {
    /// `.data + .bss + .uninit`.
    pub fn statics(&self) -> u32 {
        self.data + self.bss + self.uninit
    }
}

fn addr(symbol: *const u32) -> u32 {
    symbol as u32
}

/// Measures RAM use now: call it after the work whose stack depth is wanted.
pub fn usage() -> RamUsage {
    let (sdata, edata) = (addr(&raw const __sdata), addr(&raw const __edata));
    let (sbss, ebss) = (addr(&raw const __sbss), addr(&raw const __ebss));
    let (suninit, euninit) = (addr(&raw const __suninit), addr(&raw const __euninit));
    let (top, bottom) = (addr(&raw const _stack_start), addr(&raw const _stack_end));
    debug_assert_eq!(bottom, heap_start() as u32);
    let mut low = bottom;
    while low < top {
        // SAFETY: `[_stack_end, _stack_start)` is RAM owned by the stack; words below the stack
        // pointer are only read, and reading any initialised RAM word is sound.
        let word = unsafe { core::ptr::read_volatile(low as *const u32) };
        if word != PAINT {
            break;
        }
        low += 4;
    }
    RamUsage {
        data: edata - sdata,
        bss: ebss - sbss,
        uninit: euninit - suninit,
        stack_region: top - bottom,
        peak_stack: top - low,
    }
}
