//! QEMU riscv32 `virt` (`-bios none`), for `riscv32imc-unknown-none-elf` (the ESP32-C3 class of
//! core): register-level glue.
//!
//! - Link: the NS16550A UART at `0x1000_0000` (QEMU's `-serial`), polled; QEMU ignores the baud
//!   rate.
//! - Busy LED: none; `virt` has no LED or GPIO, so the busy signal is dropped ([`NoLed`]).
//! - Delay: [`SpinDelay`], a busy loop timed in instructions.
//! - Meter: the `minstret` counter, which under `-icount shift=0` counts every retired
//!   instruction exactly (without icount it follows host time).

use core::convert::Infallible;
use core::ptr::{read_volatile, write_volatile};

pub use super::qemu::{SpinDelay, exit};
use crate::InferenceMeter;

/// Board name for log lines.
pub const NAME: &str = "QEMU riscv32 virt (RV32IMC code)";

const UART0: usize = 0x1000_0000;

/// The inference meter of this board.
pub type Meter = InstretMeter;

/// Everything the application drives on this board.
pub struct Board {
    /// Serial link to the host (the 16550 UART).
    pub link: Ns16550,
    /// Busy indicator: none on this machine.
    pub led: NoLed,
    /// Blocking delay (instruction spin loop).
    pub delay: SpinDelay,
    /// Inference meter (`minstret`, in instructions).
    pub meter: InstretMeter,
}

impl Board {
    /// Sets up the board; call once.
    ///
    /// # Panics
    /// On a second call.
    pub fn take() -> Self {
        static TAKEN: crate::Once<()> = crate::Once::new(());
        defmt::unwrap!(TAKEN.take(), "Board::take called twice");
        core::hint::black_box(&super::qemu::LENET_QEMU_MACHINE);
        // SAFETY: called once (see above), so this is the only handle to the UART.
        let link = unsafe { Ns16550::new(UART0) };
        Self {
            link,
            led: NoLed,
            delay: SpinDelay,
            meter: InstretMeter { start: 0 },
        }
    }
}

/// An NS16550A UART, polled; implements `embedded-io` `Read`, `ReadReady`, `Write`.
///
/// Byte registers: RBR/THR +0, IER +1, FCR +2 (write), LCR +3, LSR +5 (bit 0 data ready,
/// bit 5 transmit holding register empty).
pub struct Ns16550 {
    base: usize,
}

impl Ns16550 {
    const DATA: usize = 0;
    const IER: usize = 1;
    const FCR: usize = 2;
    const LCR: usize = 3;
    const LSR: usize = 5;
    const DATA_READY: u8 = 1 << 0;
    const THR_EMPTY: u8 = 1 << 5;

    /// 8N1, FIFOs on, interrupts off.
    ///
    /// # Safety
    /// `base` must be a 16550 UART that nothing else drives.
    pub unsafe fn new(base: usize) -> Self {
        let uart = Self { base };
        // SAFETY: the caller guarantees `base` is an unshared 16550.
        unsafe {
            write_volatile((base + Self::IER) as *mut u8, 0);
            write_volatile((base + Self::LCR) as *mut u8, 0b11);
            write_volatile((base + Self::FCR) as *mut u8, 0b111);
        }
        uart
    }

    fn lsr(&self) -> u8 {
        // SAFETY: LSR is a status register of our UART; reading it has no side effect.
        unsafe { read_volatile((self.base + Self::LSR) as *const u8) }
    }

    fn rx_ready(&self) -> bool {
        self.lsr() & Self::DATA_READY != 0
    }

    fn tx_ready(&self) -> bool {
        self.lsr() & Self::THR_EMPTY != 0
    }
}

impl embedded_io::ErrorType for Ns16550 {
    type Error = Infallible;
}

impl embedded_io::Read for Ns16550 {
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
            // SAFETY: reading RBR pops the received byte of our UART.
            *slot = unsafe { read_volatile((self.base + Self::DATA) as *const u8) };
            n += 1;
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for Ns16550 {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(self.rx_ready())
    }
}

impl embedded_io::Write for Ns16550 {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        while !self.tx_ready() {}
        // The transmit FIFO holds 16 bytes once THR reads empty.
        let n = buf.len().min(16);
        for &b in &buf[..n] {
            // SAFETY: writing THR queues a byte on our UART.
            unsafe { write_volatile((self.base + Self::DATA) as *mut u8, b) };
        }
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        while !self.tx_ready() {}
        Ok(())
    }
}

/// The busy output of a machine without an LED: setting it does nothing.
pub struct NoLed;

impl embedded_hal::digital::ErrorType for NoLed {
    type Error = Infallible;
}

impl embedded_hal::digital::OutputPin for NoLed {
    fn set_low(&mut self) -> Result<(), Infallible> {
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// `minstret` (with `minstreth` ignored: one inference is far below 2^32 instructions).
pub struct InstretMeter {
    start: u32,
}

impl InferenceMeter for InstretMeter {
    const UNIT: &'static str = "instructions";

    fn start(&mut self) {
        self.start = riscv::register::minstret::read() as u32;
    }

    fn stop(&mut self) -> u32 {
        (riscv::register::minstret::read() as u32).wrapping_sub(self.start)
    }
}
