//! QEMU `mps2-an385` (Cortex-M3), `mps2-an386` (Cortex-M4F) and `mps2-an500` (Cortex-M7): the Arm
//! MPS2+ FPGA images share one memory map and peripheral map, so one image per target runs on
//! each machine whose CPU can execute it (`thumbv6m`/`thumbv7m` on an385, `thumbv7em` on an386
//! and an500). Register-level glue:
//!
//! - Link: CMSDK APB UART0 at `0x4000_4000`, 115200 baud, polled.
//! - Busy LED: FPGA IO LED0 (`0x4002_8000` bit 0).
//! - Delay: [`SpinDelay`], a busy loop timed in instructions.
//! - Meter: CMSDK TIMER0 at `0x4000_0000`, 25 MHz: one tick per 40 instructions under `-icount
//!   shift=0`.

pub use super::cmsdk::{CmsdkUart, FpgaLed, TimerMeter};
pub use super::qemu::{SpinDelay, exit};

/// Board name for log lines (the core that runs is logged from its CPUID).
pub const NAME: &str = "QEMU MPS2 (mps2-an385 / an386 / an500)";

/// Peripheral clock of the MPS2 FPGA images.
pub const PCLK_HZ: u32 = 25_000_000;

const UART0: usize = 0x4000_4000;
const TIMER0: usize = 0x4000_0000;
const FPGAIO: usize = 0x4002_8000;

/// The inference meter of this board.
pub type Meter = TimerMeter;

/// Everything the application drives on this board.
pub struct Board {
    /// Serial link to the host (UART0).
    pub link: CmsdkUart,
    /// Busy indicator (LED0).
    pub led: FpgaLed,
    /// Blocking delay (instruction spin loop).
    pub delay: SpinDelay,
    /// Inference meter (TIMER0, in instructions).
    pub meter: TimerMeter,
}

impl Board {
    /// Takes the core peripherals and sets up the board; call once.
    pub fn take() -> Self {
        // Claiming the core peripherals makes a second call fail here.
        #[allow(unused_mut)]
        let mut cp = defmt::unwrap!(cortex_m::Peripherals::take());
        // ARMv6-M code (thumbv6m) runs here on a Cortex-M3, which would silently allow the
        // unaligned word and halfword accesses that fault on a Cortex-M0/M0+: make them trap
        // (CCR.UNALIGN_TRP; a HardFault, exit code 102), as they do on those cores.
        #[cfg(armv6m)]
        // SAFETY: setting UNALIGN_TRP only adds faults; nothing relies on unaligned accesses.
        unsafe {
            cp.SCB.ccr.modify(|ccr| ccr | (1 << 3))
        };
        let _ = &mut cp;
        core::hint::black_box(&super::qemu::LENET_QEMU_MACHINE);
        // SAFETY: called once (see above), so these are the only handles to UART0, TIMER0 and
        // the LED register.
        unsafe {
            Self {
                link: CmsdkUart::new(UART0, PCLK_HZ, 115_200),
                led: FpgaLed::new(FPGAIO),
                delay: SpinDelay,
                meter: TimerMeter::new(TIMER0, PCLK_HZ),
            }
        }
    }
}
