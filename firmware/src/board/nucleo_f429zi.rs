//! NUCLEO-F429ZI (STM32F429ZIT6, Cortex-M4F): glue over `stm32f4xx-hal`.
//!
//! - Clocks: 8 MHz HSE from the ST-LINK's MCO (bypass mode), SYSCLK 180 MHz.
//! - Link: USART3 on PD8 (TX) / PD9 (RX), wired to the ST-LINK virtual COM port, 115200 8N1.
//! - Busy LED: LD2 (blue, PB7). LD1 (green, PB0) is lit once the board is up.
//! - Delay: SysTick. Meter: DWT cycle counter (core cycles, wait states included).
//!
//! The HAL's serial halves speak `embedded-hal-nb`; [`NbLink`] adapts them to `embedded-io` 0.7.

use cortex_m::delay::Delay;
use cortex_m::peripheral::DWT;
use embedded_hal_nb::serial::{Error as _, ErrorKind, Read as NbRead, Write as NbWrite};
use stm32f4xx_hal::gpio::{Output, PB7};
use stm32f4xx_hal::pac;
use stm32f4xx_hal::prelude::*;
use stm32f4xx_hal::rcc::Config;
use stm32f4xx_hal::serial::{Rx, Tx};

use crate::InferenceMeter;

use defmt_rtt as _; // global logger: RTT, decoded by probe-rs

/// Ends the program with `code`: a semihosting exit when a debugger is attached (probe-rs
/// reports it as the exit code of `cargo run`), a reset otherwise.
pub fn exit(code: i32) -> ! {
    if !cortex_m::peripheral::DCB::is_debugger_attached() {
        cortex_m::peripheral::SCB::sys_reset();
    }
    semihosting::process::exit(code)
}

/// Board name for log lines.
pub const NAME: &str = "NUCLEO-F429ZI (STM32F429ZI, Cortex-M4F @ 180 MHz)";

/// The probe-rs target this firmware is flashed to. The runner in `.cargo/config.toml` finds
/// this marker in the ELF and runs `probe-rs run --chip STM32F429ZITx` instead of QEMU.
#[used]
#[unsafe(no_mangle)]
pub static LENET_PROBE_RS_CHIP: [u8; 27] = *b"probe-rs-chip=STM32F429ZITx";

/// Core clock.
pub const SYSCLK_HZ: u32 = 180_000_000;

/// The inference meter of this board.
pub type Meter = DwtMeter;

/// Everything the application drives on this board.
pub struct Board {
    /// Serial link to the host (USART3, ST-LINK VCP).
    pub link: NbLink<Tx<pac::USART3>, Rx<pac::USART3>>,
    /// Busy indicator (LD2, blue).
    pub led: PB7<Output>,
    /// Blocking delay (SysTick).
    pub delay: Delay,
    /// Inference meter (DWT CYCCNT, in cycles).
    pub meter: DwtMeter,
}

impl Board {
    /// Takes the peripherals and sets up clocks, pins and the serial port; call once.
    pub fn take() -> Self {
        // Keep the probe-rs marker in the image.
        core::hint::black_box(&LENET_PROBE_RS_CHIP);
        let dp = defmt::unwrap!(pac::Peripherals::take());
        let mut cp = defmt::unwrap!(cortex_m::Peripherals::take());
        let mut rcc = dp.RCC.freeze(
            Config::hse(8.MHz())
                .bypass_hse_oscillator()
                .sysclk(SYSCLK_HZ.Hz()),
        );
        let gpiob = dp.GPIOB.split(&mut rcc);
        let gpiod = dp.GPIOD.split(&mut rcc);
        let mut ready = gpiob.pb0.into_push_pull_output();
        ready.set_high();
        let led = gpiob.pb7.into_push_pull_output();
        let serial = defmt::unwrap!(
            dp.USART3
                .serial((gpiod.pd8, gpiod.pd9), 115_200.bps(), &mut rcc)
                .ok()
        );
        let (tx, rx) = serial.split();
        cp.DCB.enable_trace();
        cp.DWT.enable_cycle_counter();
        Self {
            link: NbLink::new(tx, rx),
            led,
            delay: Delay::new(cp.SYST, rcc.clocks.sysclk().raw()),
            meter: DwtMeter { start: 0 },
        }
    }
}

/// The DWT cycle counter.
pub struct DwtMeter {
    start: u32,
}

impl InferenceMeter for DwtMeter {
    const UNIT: &'static str = "cycles";

    fn start(&mut self) {
        self.start = DWT::cycle_count();
    }

    fn stop(&mut self) -> u32 {
        DWT::cycle_count().wrapping_sub(self.start)
    }
}

/// A serial error (overrun, framing, parity, noise) from the UART.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkError(pub ErrorKind);

impl core::fmt::Display for LinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "serial error: {:?}", self.0)
    }
}

impl core::error::Error for LinkError {}

impl embedded_io::Error for LinkError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

/// Adapts `embedded-hal-nb` serial halves to `embedded-io` 0.7 `Read`, `ReadReady` and `Write`.
pub struct NbLink<TX, RX> {
    tx: TX,
    rx: RX,
    /// A byte taken by `read_ready` and not yet handed out.
    peeked: Option<u8>,
}

impl<TX, RX> NbLink<TX, RX> {
    /// Wraps the transmit and receive halves.
    pub fn new(tx: TX, rx: RX) -> Self {
        Self {
            tx,
            rx,
            peeked: None,
        }
    }
}

impl<TX, RX> embedded_io::ErrorType for NbLink<TX, RX> {
    type Error = LinkError;
}

impl<TX, RX: NbRead<u8>> NbLink<TX, RX> {
    fn try_byte(&mut self) -> Result<Option<u8>, LinkError> {
        if let Some(b) = self.peeked.take() {
            return Ok(Some(b));
        }
        match self.rx.read() {
            Ok(b) => Ok(Some(b)),
            Err(nb::Error::WouldBlock) => Ok(None),
            Err(nb::Error::Other(e)) => Err(LinkError(e.kind())),
        }
    }
}

impl<TX, RX: NbRead<u8>> embedded_io::Read for NbLink<TX, RX> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, LinkError> {
        let mut n = 0;
        for slot in buf.iter_mut() {
            let byte = loop {
                match self.try_byte()? {
                    Some(b) => break Some(b),
                    None if n > 0 => break None,
                    None => {}
                }
            };
            match byte {
                Some(b) => {
                    *slot = b;
                    n += 1;
                }
                None => break,
            }
        }
        Ok(n)
    }
}

impl<TX, RX: NbRead<u8>> embedded_io::ReadReady for NbLink<TX, RX> {
    fn read_ready(&mut self) -> Result<bool, LinkError> {
        if self.peeked.is_none() {
            self.peeked = self.try_byte()?;
        }
        Ok(self.peeked.is_some())
    }
}

impl<TX: NbWrite<u8>, RX> embedded_io::Write for NbLink<TX, RX> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, LinkError> {
        for &b in buf {
            nb::block!(self.tx.write(b)).map_err(|e| LinkError(e.kind()))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), LinkError> {
        nb::block!(self.tx.flush()).map_err(|e| LinkError(e.kind()))
    }
}
