//! QEMU `mps2-an505` (Arm MPS2+ AN505: Cortex-M33 with DSP and FPU, SSE-200) and `mps3-an547`
//! (Arm MPS3 AN547: Cortex-M55 with Helium, SSE-300, feature `mps3-an547`): register-level glue.
//!
//! The CPU starts in the secure state with the SAU off and the peripheral protection
//! controllers leave every peripheral secure, so the glue uses the secure aliases
//! (`0x5xxx_xxxx`):
//!
//! | | an505 | an547 |
//! |---|---|---|
//! | UART0 (CMSDK, polled, 115200) | `0x5020_0000` | `0x5930_3000` |
//! | FPGA IO LED0 | `0x5030_2000` | `0x5930_2000` |
//! | system clock | 20 MHz | 32 MHz |
//!
//! - Delay: [`SpinDelay`], a busy loop timed in instructions.
//! - Meter: SysTick on the processor clock (24 bits, wraps after half a billion instructions):
//!   under `-icount shift=0` one tick is 50 (an505) or 31.25 (an547) instructions.

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;

use super::cmsdk::instructions;
pub use super::cmsdk::{CmsdkUart, FpgaLed};
pub use super::qemu::{SpinDelay, exit};
use crate::InferenceMeter;

#[cfg(board = "mps2-an505")]
mod map {
    pub const NAME: &str = "QEMU mps2-an505 (Cortex-M33)";
    pub const SYSCLK_HZ: u32 = 20_000_000;
    pub const UART0: usize = 0x5020_0000;
    pub const FPGAIO: usize = 0x5030_2000;
}

#[cfg(board = "mps3-an547")]
mod map {
    pub const NAME: &str = "QEMU mps3-an547 (Cortex-M55)";
    pub const SYSCLK_HZ: u32 = 32_000_000;
    pub const UART0: usize = 0x5930_3000;
    pub const FPGAIO: usize = 0x5930_2000;
}

/// Board name for log lines.
pub const NAME: &str = map::NAME;
/// Processor (and SysTick) clock.
pub const SYSCLK_HZ: u32 = map::SYSCLK_HZ;

/// The inference meter of this board.
pub type Meter = SysTickMeter;

/// Everything the application drives on this board.
pub struct Board {
    /// Serial link to the host (UART0).
    pub link: CmsdkUart,
    /// Busy indicator (LED0).
    pub led: FpgaLed,
    /// Blocking delay (instruction spin loop).
    pub delay: SpinDelay,
    /// Inference meter (SysTick, in instructions).
    pub meter: SysTickMeter,
}

impl Board {
    /// Takes the core peripherals and sets up the board; call once.
    pub fn take() -> Self {
        // Claiming the core peripherals makes a second call fail here.
        let cp = defmt::unwrap!(cortex_m::Peripherals::take());
        core::hint::black_box(&super::qemu::LENET_QEMU_MACHINE);
        // SAFETY: called once (see above), so these are the only handles to UART0 and the LED
        // register.
        unsafe {
            Self {
                link: CmsdkUart::new(map::UART0, SYSCLK_HZ, 115_200),
                led: FpgaLed::new(map::FPGAIO),
                delay: SpinDelay,
                meter: SysTickMeter::new(cp.SYST),
            }
        }
    }
}

/// SysTick as a free-running 24-bit down-counter on the processor clock, read as instructions.
pub struct SysTickMeter {
    _syst: SYST,
    start: u32,
}

impl SysTickMeter {
    const MASK: u32 = 0x00FF_FFFF;

    fn new(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(Self::MASK);
        syst.clear_current();
        syst.enable_counter();
        Self {
            _syst: syst,
            start: 0,
        }
    }
}

impl InferenceMeter for SysTickMeter {
    const UNIT: &'static str = "instructions";

    fn start(&mut self) {
        self.start = SYST::get_current();
    }

    fn stop(&mut self) -> u32 {
        let ticks = self.start.wrapping_sub(SYST::get_current()) & Self::MASK;
        instructions(ticks, SYSCLK_HZ / 1_000_000)
    }
}
