//! QEMU `mps2-an386` (Arm MPS2+ AN386, Cortex-M4F at 25 MHz): register-level glue.
//!
//! - Link: CMSDK APB UART0 at `0x4000_4000`, 115200 baud, polled.
//! - Busy LED: FPGA IO LED0 (`0x4002_8000` bit 0).
//! - Delay: [`SpinDelay`], a register-free busy loop timed in instructions. Under `-icount`
//!   QEMU's virtual clock only advances with executed instructions, and every peripheral read
//!   costs far more host time than an instruction, so a delay that polls SysTick would stretch
//!   100 µs of guest time into milliseconds of host time; a spin loop keeps guest time and host
//!   time close.
//! - Meter: CMSDK TIMER0 at `0x4000_0000`. With QEMU's `-icount shift=0` every executed
//!   instruction advances the virtual clock by 1 ns, and the 25 MHz timer ticks once per 40 ns,
//!   so one tick is 40 instructions: the count is exact to one tick and identical on every run.

use core::convert::Infallible;
use core::ptr::{read_volatile, write_volatile};

use embedded_hal::delay::DelayNs;

use crate::InferenceMeter;

/// Board name for log lines.
pub const NAME: &str = "QEMU mps2-an386 (Cortex-M4F)";

/// Peripheral clock of the MPS2 FPGA image.
pub const PCLK_HZ: u32 = 25_000_000;
/// Instructions per timer tick under `-icount shift=0` (1 ns per instruction, 40 ns per tick).
pub const INSTRUCTIONS_PER_TICK: u32 = 1_000_000_000 / PCLK_HZ;

const UART0: usize = 0x4000_4000;
const TIMER0: usize = 0x4000_0000;
const FPGAIO_LED: usize = 0x4002_8000;

/// The inference meter of this board.
pub type Meter = Timer0Meter;

/// Everything the application drives on this board.
pub struct Board {
    /// Serial link to the host (UART0).
    pub link: CmsdkUart,
    /// Busy indicator (LED0).
    pub led: FpgaLed,
    /// Blocking delay (instruction spin loop).
    pub delay: SpinDelay,
    /// Inference meter (TIMER0, in instructions).
    pub meter: Timer0Meter,
}

impl Board {
    /// Takes the core peripherals and sets up the board; call once.
    pub fn take() -> Self {
        // Claiming the core peripherals makes a second call fail here.
        let _cp = defmt::unwrap!(cortex_m::Peripherals::take());
        // SAFETY: called once (see above), so these are the only handles to UART0, TIMER0 and
        // the LED register.
        unsafe {
            Self {
                link: CmsdkUart::new(UART0, PCLK_HZ, 115_200),
                led: FpgaLed::new(),
                delay: SpinDelay,
                meter: Timer0Meter::new(),
            }
        }
    }
}

fn reg(base: usize, offset: usize) -> *mut u32 {
    (base + offset) as *mut u32
}

/// CMSDK APB UART, polled; implements `embedded-io` `Read`, `ReadReady`, `Write`, `WriteReady`.
///
/// Registers: DATA +0x0, STATE +0x4 (bit 0 TX full, bit 1 RX full), CTRL +0x8 (bit 0 TX enable,
/// bit 1 RX enable), BAUDDIV +0x10 (at least 16, or QEMU ignores the UART).
pub struct CmsdkUart {
    base: usize,
}

impl CmsdkUart {
    const DATA: usize = 0x0;
    const STATE: usize = 0x4;
    const CTRL: usize = 0x8;
    const BAUDDIV: usize = 0x10;
    const TX_FULL: u32 = 1 << 0;
    const RX_FULL: u32 = 1 << 1;

    /// Enables the UART at `base` for `baud` with a peripheral clock of `pclk_hz`.
    ///
    /// # Safety
    /// `base` must be a CMSDK UART that nothing else drives.
    pub unsafe fn new(base: usize, pclk_hz: u32, baud: u32) -> Self {
        let uart = Self { base };
        // SAFETY: the caller guarantees `base` is an unshared CMSDK UART.
        unsafe {
            write_volatile(reg(base, Self::BAUDDIV), (pclk_hz / baud).max(16));
            write_volatile(reg(base, Self::CTRL), 0b11);
        }
        uart
    }

    fn state(&self) -> u32 {
        // SAFETY: STATE is a read-only status register of our UART.
        unsafe { read_volatile(reg(self.base, Self::STATE)) }
    }

    fn rx_ready(&self) -> bool {
        self.state() & Self::RX_FULL != 0
    }

    fn tx_ready(&self) -> bool {
        self.state() & Self::TX_FULL == 0
    }

    fn read_byte(&mut self) -> u8 {
        // SAFETY: reading DATA pops the received byte of our UART.
        unsafe { read_volatile(reg(self.base, Self::DATA)) as u8 }
    }

    fn write_byte(&mut self, b: u8) {
        // SAFETY: writing DATA queues a byte on our UART.
        unsafe { write_volatile(reg(self.base, Self::DATA), u32::from(b)) }
    }
}

impl embedded_io::ErrorType for CmsdkUart {
    type Error = Infallible;
}

impl embedded_io::Read for CmsdkUart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        while !self.rx_ready() {}
        let mut n = 0;
        for slot in buf.iter_mut() {
            if !self.rx_ready() {
                break;
            }
            *slot = self.read_byte();
            n += 1;
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for CmsdkUart {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(self.rx_ready())
    }
}

impl embedded_io::Write for CmsdkUart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        while !self.tx_ready() {}
        let mut n = 0;
        for &b in buf {
            if !self.tx_ready() {
                break;
            }
            self.write_byte(b);
            n += 1;
        }
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        while !self.tx_ready() {}
        Ok(())
    }
}

impl embedded_io::WriteReady for CmsdkUart {
    fn write_ready(&mut self) -> Result<bool, Infallible> {
        Ok(self.tx_ready())
    }
}

/// FPGA IO LED0, an `embedded-hal` output pin.
pub struct FpgaLed {
    _private: (),
}

impl FpgaLed {
    /// # Safety
    /// Nothing else may drive the FPGA IO LED register.
    unsafe fn new() -> Self {
        Self { _private: () }
    }

    fn set(&mut self, on: bool) {
        // SAFETY: the LED register belongs to this handle (see `new`).
        unsafe {
            let leds = read_volatile(reg(FPGAIO_LED, 0));
            write_volatile(reg(FPGAIO_LED, 0), if on { leds | 1 } else { leds & !1 });
        }
    }
}

impl embedded_hal::digital::ErrorType for FpgaLed {
    type Error = Infallible;
}

impl embedded_hal::digital::OutputPin for FpgaLed {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.set(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.set(true);
        Ok(())
    }
}

/// A busy-wait delay counted in instructions, one per nanosecond: exact guest time under
/// `-icount shift=0` (1 ns per instruction), and the same order of magnitude without icount.
pub struct SpinDelay;

impl DelayNs for SpinDelay {
    fn delay_ns(&mut self, ns: u32) {
        // `asm::delay(n)` runs about n instructions (n / 2 iterations of `subs; bne`).
        cortex_m::asm::delay(ns);
    }
}

/// CMSDK TIMER0 as a free-running 32-bit down-counter, read as instructions.
pub struct Timer0Meter {
    start: u32,
}

impl Timer0Meter {
    const CTRL: usize = 0x0;
    const VALUE: usize = 0x4;
    const RELOAD: usize = 0x8;

    /// # Safety
    /// Nothing else may drive TIMER0.
    unsafe fn new() -> Self {
        // SAFETY: TIMER0 belongs to this handle (see above).
        unsafe {
            write_volatile(reg(TIMER0, Self::RELOAD), u32::MAX);
            write_volatile(reg(TIMER0, Self::VALUE), u32::MAX);
            write_volatile(reg(TIMER0, Self::CTRL), 1);
        }
        Self { start: 0 }
    }

    fn now(&self) -> u32 {
        // SAFETY: VALUE is TIMER0's current count, read only.
        unsafe { read_volatile(reg(TIMER0, Self::VALUE)) }
    }
}

impl InferenceMeter for Timer0Meter {
    const UNIT: &'static str = "instructions";

    fn start(&mut self) {
        self.start = self.now();
    }

    fn stop(&mut self) -> u32 {
        let ticks = self.start.wrapping_sub(self.now());
        ticks.saturating_mul(INSTRUCTIONS_PER_TICK)
    }
}
