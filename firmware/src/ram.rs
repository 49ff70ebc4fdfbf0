//! RAM figures: static data from the linker symbols, peak stack by stack painting.
//!
//! The unused stack is filled with [`PAINT`] before `main` (cortex-m-rt's `paint-stack` at reset
//! on Arm; [`crate::arch`] after RAM init on RISC-V). The lowest word that no longer holds the
//! paint marks the deepest the stack has reached (the high-water mark).

/// The stack paint.
pub const PAINT: u32 = 0xCCCC_CCCC;

/// RAM regions as `[start, end)` byte addresses.
#[derive(Debug, Clone, Copy)]
pub struct Regions {
    /// Initialised statics.
    pub data: (u32, u32),
    /// Zeroed statics.
    pub bss: (u32, u32),
    /// Uninitialised statics.
    pub uninit: (u32, u32),
    /// The stack region: bottom (end of the statics or heap) and top.
    pub stack: (u32, u32),
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

/// Measures RAM use now: call it after the work whose stack depth is wanted.
pub fn usage() -> RamUsage {
    let r = crate::arch::regions();
    let (bottom, top) = r.stack;
    let mut low = bottom;
    while low < top {
        // SAFETY: `[bottom, top)` is RAM owned by the stack; words below the stack pointer are
        // only read, and reading any initialised RAM word is sound.
        let word = unsafe { core::ptr::read_volatile(low as *const u32) };
        if word != PAINT {
            break;
        }
        low += 4;
    }
    RamUsage {
        data: r.data.1 - r.data.0,
        bss: r.bss.1 - r.bss.0,
        uninit: r.uninit.1 - r.uninit.0,
        stack_region: top - bottom,
        peak_stack: top - low,
    }
}
