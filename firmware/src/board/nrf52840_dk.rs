//! Nordic nRF52840-DK (PCA10056; nRF52840, Cortex-M4F with the DSP extension): glue over
//! `nrf52840-hal`.
//!
//! - Flash: 1 MiB from 0x0, no SoftDevice (`memory/nrf52840-dk.x`). The int8 blob does not fit;
//!   the build embeds the int4 one (fc1 weights at 4 bits, `build.rs`).
//! - Clocks: the CPU runs at 64 MHz; the 32 MHz crystal (HFXO) is started so that the UART's
//!   baud rate has the crystal's accuracy, not that of the internal RC oscillator (HFINT).
//! - Link: UARTE0 on P0.06 (TX) / P0.08 (RX), 115200 8N1, no flow control: the pins that the
//!   interface MCU (J-Link OB) bridges to its USB virtual COM port (`/dev/ttyACM0`). The HAL's
//!   UARTE halves speak `embedded-io` 0.7 one direction each; [`UarteLink`] joins them.
//! - Busy LED: LED1 (P0.13, active low), through [`ActiveLow`] so that `set_high` lights it.
//! - Delay: TIMER0 (1 MHz). Meter: DWT cycle counter (core cycles at 64 MHz).
//! - Debug port: revision-3 chips (build code F and later, FICR `INFO.VARIANT` `AAF0`) lock the
//!   access port at every reset unless the firmware opens it; [`Board::take`] does, so that
//!   probe-rs can read RTT and the semihosting exit after the reset that follows flashing.
//! - defmt over RTT, decoded by probe-rs.
//!
//! Flashing: from `firmware/`, `cargo run --release --features nrf52840-dk --target-dir
//! target/nrf52840-dk [--bin app]` over the on-board J-Link (USB port J2): the runner finds the
//! `probe-rs-chip=nRF52840_xxAA` marker and runs `probe-rs run --chip nRF52840_xxAA`.

use core::slice;

use embedded_hal::digital::{ErrorType, OutputPin};
use nrf52840_hal as hal;

use hal::gpio::p0::P0_13;
use hal::gpio::{Level, Output, PushPull};
use hal::pac;
use hal::uarte::{self, Baudrate, Parity, Uarte, UarteRx, UarteTx};
use lenet_core::protocol::Kind;

pub use super::probe::{DwtMeter, exit};
use crate::Once;

use defmt_rtt as _; // global logger: RTT, decoded by probe-rs

/// Board name for log lines.
pub const NAME: &str = "nRF52840-DK (nRF52840, Cortex-M4F @ 64 MHz)";

/// The probe-rs target this firmware is flashed to. The runner in `.cargo/config.toml` finds
/// this marker in the ELF and runs `probe-rs run --chip nRF52840_xxAA` instead of QEMU.
#[used]
#[unsafe(no_mangle)]
pub static LENET_PROBE_RS_CHIP: [u8; 27] = *b"probe-rs-chip=nRF52840_xxAA";

/// Core clock.
pub const SYSCLK_HZ: u32 = 64_000_000;

/// The inference meter of this board.
pub type Meter = DwtMeter;

/// Bytes of UARTE0's transmit buffer (EasyDMA reads from RAM only, so the HAL copies every
/// write into it). Every frame the service sends fits, so each reply is one DMA transfer.
const TX_LEN: usize = 32;
const _: () = assert!(
    Kind::Result.frame_len() <= TX_LEN
        && Kind::Pong.frame_len() <= TX_LEN
        && Kind::Error.frame_len() <= TX_LEN
);

/// UARTE0's DMA buffers, handed to the HAL once (`&'static mut`).
static TX_BUF: Once<[u8; TX_LEN]> = Once::new([0; TX_LEN]);
static RX_BUF: Once<[u8; 1]> = Once::new([0; 1]);

/// Build code (third letter of FICR `INFO.VARIANT`, e.g. `AAF0`) from which the nRF52840 has the
/// access port protection that the firmware must open at every boot (revision 3).
const APPROTECT_BUILD_CODE: u8 = b'F';
/// Value of `UICR.APPROTECT` (`HwDisabled`) and `APPROTECT.DISABLE` (`SwDisabled`) that leave
/// the access port open.
const APPROTECT_OPEN: u32 = 0x5A;
/// `APPROTECT.DISABLE`, a revision-3 register that nrf52840-pac 0.12 does not describe.
const APPROTECT_DISABLE: *mut u32 = 0x4000_0558 as *mut u32;

/// Everything the application drives on this board.
pub struct Board {
    /// Serial link to the host (UARTE0, J-Link virtual COM port).
    pub link: UarteLink,
    /// Busy indicator (LED1).
    pub led: ActiveLow<P0_13<Output<PushPull>>>,
    /// Blocking delay (TIMER0, 1 MHz).
    pub delay: hal::Timer<pac::TIMER0>,
    /// Inference meter (DWT CYCCNT, in cycles).
    pub meter: DwtMeter,
}

impl Board {
    /// Takes the peripherals and sets up the debug port, clocks, pins and the serial port; call
    /// once.
    pub fn take() -> Self {
        // Keep the probe-rs marker in the image.
        core::hint::black_box(&LENET_PROBE_RS_CHIP);
        let p = defmt::unwrap!(pac::Peripherals::take());
        let mut cp = defmt::unwrap!(cortex_m::Peripherals::take());
        keep_debug_port_open(&p.FICR, &p.UICR, &p.NVMC);
        // Not kept: dropping the handle leaves the crystal running.
        let _ = hal::Clocks::new(p.CLOCK).enable_ext_hfosc();
        let port0 = hal::gpio::p0::Parts::new(p.P0);
        let led = ActiveLow(port0.p0_13.into_push_pull_output(Level::High));
        let pins = uarte::Pins {
            txd: port0.p0_06.into_push_pull_output(Level::High).degrade(),
            rxd: port0.p0_08.into_floating_input().degrade(),
            cts: None,
            rts: None,
        };
        let uarte = Uarte::new(p.UARTE0, pins, Parity::EXCLUDED, Baudrate::BAUD115200);
        let tx_buf = defmt::unwrap!(TX_BUF.take());
        let rx_buf = defmt::unwrap!(RX_BUF.take());
        let (tx, rx) = defmt::unwrap!(uarte.split(tx_buf, rx_buf).ok());
        cp.DCB.enable_trace();
        cp.DWT.enable_cycle_counter();
        Self {
            link: UarteLink { tx, rx },
            led,
            delay: hal::Timer::new(p.TIMER0),
            meter: DwtMeter::new(),
        }
    }
}

/// Opens the access port of a revision-3 chip until the next reset, as embassy-nrf's default
/// `Debug::Allowed` does: `UICR.APPROTECT = HwDisabled` once (a flash write, followed by a
/// reset, since UICR is read at reset), then `APPROTECT.DISABLE = SwDisabled` at every boot (the
/// half that Nordic's start-up code does). Older chips (build codes C and D) keep their port
/// open by default and are left alone, as is a `UICR.APPROTECT` that someone set to lock the
/// chip (flash bits can only be cleared, so it cannot be rewritten to `HwDisabled` without an
/// erase).
fn keep_debug_port_open(ficr: &pac::FICR, uicr: &pac::UICR, nvmc: &pac::NVMC) {
    let build_code = (ficr.info.variant.read().bits() >> 8) as u8;
    if build_code < APPROTECT_BUILD_CODE {
        return;
    }
    let word = uicr.approtect.read().bits();
    if word != APPROTECT_OPEN {
        if word & APPROTECT_OPEN != APPROTECT_OPEN {
            return;
        }
        nvmc.config.write(|w| w.wen().wen());
        while nvmc.ready.read().ready().is_busy() {}
        // SAFETY: 0x5A is `HwDisabled`, a valid PALL value, written with the NVMC in write mode.
        uicr.approtect.write(|w| unsafe { w.bits(APPROTECT_OPEN) });
        while nvmc.ready.read().ready().is_busy() {}
        nvmc.config.reset();
        while nvmc.ready.read().ready().is_busy() {}
        cortex_m::peripheral::SCB::sys_reset();
    }
    // SAFETY: `APPROTECT.DISABLE` is a write-only register of revision-3 chips (checked above);
    // writing `SwDisabled` only opens the debug port.
    unsafe { APPROTECT_DISABLE.write_volatile(APPROTECT_OPEN) };
}

/// An output that is active low: `set_high` drives the pin low, which lights the DK's LEDs.
pub struct ActiveLow<P>(pub P);

impl<P: ErrorType> ErrorType for ActiveLow<P> {
    type Error = P::Error;
}

impl<P: OutputPin> OutputPin for ActiveLow<P> {
    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.0.set_low()
    }

    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.0.set_high()
    }
}

/// UARTE0's transmit and receive halves as one `embedded-io` 0.7 link (`Read`, `ReadReady`,
/// `Write`), working around two quirks of the HAL's halves.
pub struct UarteLink {
    tx: UarteTx<pac::UARTE0>,
    rx: UarteRx<pac::UARTE0>,
}

impl embedded_io::ErrorType for UarteLink {
    type Error = uarte::Error;
}

impl embedded_io::ReadReady for UarteLink {
    fn read_ready(&mut self) -> Result<bool, uarte::Error> {
        // With no read under way, the HAL arms a one-byte DMA read and reports `false`, even when
        // a byte already waits in the UARTE's RX FIFO; asking again reports whether it landed.
        Ok(self.rx.read_ready()? || self.rx.read_ready()?)
    }
}

impl embedded_io::Read for UarteLink {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, uarte::Error> {
        // One byte per DMA read: wait for the first, then take what has already arrived. A frame
        // sent back to back (a byte every 87 us at 115200 baud) is then drained as fast as it
        // comes, where one byte per poll of the service (100 us) would overrun the RX FIFO.
        let mut n = 0;
        for slot in buf.iter_mut() {
            if n > 0 && !embedded_io::ReadReady::read_ready(self)? {
                break;
            }
            n += self.rx.read(slice::from_mut(slot))?;
        }
        Ok(n)
    }
}

impl embedded_io::Write for UarteLink {
    fn write(&mut self, buf: &[u8]) -> Result<usize, uarte::Error> {
        // The HAL's `write` starts the DMA transfer of what it buffered, but closes it only in a
        // later `flush`: a `write` in between appends to the finished transfer, and those bytes
        // are dropped when the next call closes it. Closing the previous transfer first (long
        // done by then: each reply is one transfer, `TX_LEN`) keeps every write whole.
        self.tx.flush()?;
        self.tx.write(buf)
    }

    fn flush(&mut self) -> Result<(), uarte::Error> {
        self.tx.flush()
    }
}
