//! Arm CMSDK peripherals of the QEMU MPS2 and MPS2/MPS3 TrustZone machines, at the base
//! address each machine gives them: the APB UART (polled, `embedded-io`), the APB timer (an
//! inference meter) and the FPGA IO LEDs (`embedded-hal` output pin).

use core::convert::Infallible;
use core::ptr::{read_volatile, write_volatile};

use crate::InferenceMeter;

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

/// FPGA IO LED0 (bit 0 of the LED register at offset 0), an `embedded-hal` output pin.
pub struct FpgaLed {
    base: usize,
}

impl FpgaLed {
    /// The LED of the FPGA IO block at `base`.
    ///
    /// # Safety
    /// `base` must be an FPGA IO block whose LED register nothing else drives.
    pub unsafe fn new(base: usize) -> Self {
        Self { base }
    }

    fn set(&mut self, on: bool) {
        // SAFETY: the LED register belongs to this handle (see `new`).
        unsafe {
            let leds = read_volatile(reg(self.base, 0));
            write_volatile(reg(self.base, 0), if on { leds | 1 } else { leds & !1 });
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

/// A CMSDK APB timer as a free-running 32-bit down-counter, read as instructions.
///
/// Under QEMU's `-icount shift=0` every executed instruction advances the virtual clock by 1 ns,
/// so a timer clocked at `f` Hz ticks once per `1e9 / f` instructions: the count is exact to one
/// tick and identical on every run.
pub struct TimerMeter {
    base: usize,
    pclk_mhz: u32,
    start: u32,
}

impl TimerMeter {
    const CTRL: usize = 0x0;
    const VALUE: usize = 0x4;
    const RELOAD: usize = 0x8;

    /// Starts the timer at `base`, clocked at `pclk_hz` (a whole number of MHz).
    ///
    /// # Safety
    /// `base` must be a CMSDK APB timer that nothing else drives.
    pub unsafe fn new(base: usize, pclk_hz: u32) -> Self {
        // SAFETY: the timer belongs to this handle (see above).
        unsafe {
            write_volatile(reg(base, Self::RELOAD), u32::MAX);
            write_volatile(reg(base, Self::VALUE), u32::MAX);
            write_volatile(reg(base, Self::CTRL), 1);
        }
        Self {
            base,
            pclk_mhz: pclk_hz / 1_000_000,
            start: 0,
        }
    }

    fn now(&self) -> u32 {
        // SAFETY: VALUE is the timer's current count, read only.
        unsafe { read_volatile(reg(self.base, Self::VALUE)) }
    }
}

impl InferenceMeter for TimerMeter {
    const UNIT: &'static str = "instructions";

    fn start(&mut self) {
        self.start = self.now();
    }

    fn stop(&mut self) -> u32 {
        let ticks = self.start.wrapping_sub(self.now());
        instructions(ticks, self.pclk_mhz)
    }
}

/// Instructions in `ticks` of a clock of `clock_mhz` MHz under `-icount shift=0` (1 ns per
/// instruction), rounded down: exact for clocks that divide 1 GHz (25 MHz: 40 per tick), within
/// one instruction otherwise (32 MHz: 31.25 per tick).
pub fn instructions(ticks: u32, clock_mhz: u32) -> u32 {
    ticks.saturating_mul(1000) / clock_mhz
}
