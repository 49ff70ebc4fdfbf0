//! Raspberry Pi Pico (RP2040, Cortex-M0+): glue over `rp2040-hal`.
//!
//! - Boot: the boot ROM runs the 256-byte second stage [`BOOT2_FIRMWARE`] (rp2040-boot2's
//!   W25Q080 variant, for the Pico's Winbond QSPI flash) from the start of flash, which jumps to
//!   the vector table at `0x1000_0100` (`memory/rpi-pico.x`).
//! - Clocks: 12 MHz crystal, system clock 125 MHz (`init_clocks_and_plls`). Core 1 is not started.
//! - Link: UART0 on GPIO0 (TX, pin 1) / GPIO1 (RX, pin 2; pulled up), 115200 8N1. Wire a 3.3 V
//!   USB-UART adapter to it (`/dev/ttyUSB0`), or use the UART bridge of a Raspberry Pi Debug
//!   Probe / Picoprobe (its `/dev/ttyACM*` port).
//! - Busy LED: the green LED on GPIO25.
//! - Delay: the 1 MHz TIMER. Meter: the same TIMER; the Cortex-M0+ has no DWT cycle counter, so
//!   [`TimerMeter`] converts microseconds to core cycles at the system clock (125-cycle steps).
//! - defmt over RTT, which needs an SWD probe (probe-rs): flashing a UF2 file runs the firmware
//!   but shows no log.
//!
//! Flashing:
//! - probe-rs (a Debug Probe or Picoprobe on the SWD pins): from `firmware/`,
//!   `cargo run --release --features rpi-pico --target thumbv6m-none-eabi --target-dir
//!   target/rpi-pico [--bin app]`: the runner finds the `probe-rs-chip=RP2040` marker and runs
//!   `probe-rs run --chip RP2040`.
//! - UF2 (no probe): hold BOOTSEL while plugging the Pico in, then
//!   `elf2uf2-rs -d target/rpi-pico/thumbv6m-none-eabi/release/app` (copies the converted file to
//!   the mounted RPI-RP2 drive), or `picotool load -u -v -x -t elf <elf>`.
//!
//! The HAL's serial halves speak `embedded-hal-nb` (and `embedded-io` 0.6); [`NbLink`] adapts them
//! to `embedded-io` 0.7.

use core::sync::atomic::{AtomicBool, Ordering};

use rp2040_hal as hal;

use hal::Clock;
use hal::fugit::RateExtU32;
use hal::gpio::bank0::{Gpio0, Gpio1, Gpio25};
use hal::gpio::{FunctionSioOutput, FunctionUart, Pin, PullDown, PullUp};
use hal::pac;
use hal::uart::{DataBits, Reader, StopBits, UartConfig, UartPeripheral, Writer};

pub use super::nb_link::{LinkError, NbLink};
use crate::InferenceMeter;

use defmt_rtt as _; // global logger: RTT, decoded by probe-rs

/// The second-stage bootloader, which the boot ROM loads from the first 256 bytes of flash
/// (`.boot2`, placed by `memory/rpi-pico.x`) to set up execute-in-place for the W25Q flash.
#[used]
#[unsafe(no_mangle)]
#[unsafe(link_section = ".boot2")]
pub static BOOT2_FIRMWARE: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

/// Set by [`exit`] before its semihosting call.
static EXITING: AtomicBool = AtomicBool::new(false);

/// Ends the program with `code`: a semihosting exit, which probe-rs reports as the exit code of
/// `cargo run`.
///
/// A Cortex-M0+ cannot read DHCSR to tell whether a debugger is attached. Without one, the
/// semihosting breakpoint escalates to a HardFault, whose handler calls `exit` again: that second
/// call resets the chip, as the NUCLEO-F429ZI's `exit` does without a debugger.
pub fn exit(code: i32) -> ! {
    if EXITING.load(Ordering::Relaxed) {
        cortex_m::peripheral::SCB::sys_reset();
    }
    EXITING.store(true, Ordering::Relaxed);
    semihosting::process::exit(code)
}

/// Board name for log lines.
pub const NAME: &str = "Raspberry Pi Pico (RP2040, Cortex-M0+ @ 125 MHz)";

/// The probe-rs target this firmware is flashed to. The runner in `.cargo/config.toml` finds
/// this marker in the ELF and runs `probe-rs run --chip RP2040` instead of QEMU.
#[used]
#[unsafe(no_mangle)]
pub static LENET_PROBE_RS_CHIP: [u8; 20] = *b"probe-rs-chip=RP2040";

/// Frequency of the Pico's crystal oscillator.
pub const XTAL_HZ: u32 = 12_000_000;

/// The inference meter of this board.
pub type Meter = TimerMeter;

/// UART0 on GPIO0 (TX) and GPIO1 (RX, pulled up so an unconnected line idles high).
pub type UartPins = (
    Pin<Gpio0, FunctionUart, PullDown>,
    Pin<Gpio1, FunctionUart, PullUp>,
);

/// Everything the application drives on this board.
pub struct Board {
    /// Serial link to the host (UART0 on GPIO0/GPIO1).
    pub link: NbLink<Writer<pac::UART0, UartPins>, Reader<pac::UART0, UartPins>>,
    /// Busy indicator (the LED on GPIO25).
    pub led: Pin<Gpio25, FunctionSioOutput, PullDown>,
    /// Blocking delay (the 1 MHz TIMER).
    pub delay: hal::Timer,
    /// Inference meter (the 1 MHz TIMER, in core cycles).
    pub meter: TimerMeter,
}

impl Board {
    /// Takes the peripherals and sets up clocks, pins and the serial port; call once.
    pub fn take() -> Self {
        // Keep the probe-rs marker and the second stage in the image.
        core::hint::black_box(&LENET_PROBE_RS_CHIP);
        core::hint::black_box(&BOOT2_FIRMWARE);
        let mut pac = defmt::unwrap!(pac::Peripherals::take());
        let mut watchdog = hal::Watchdog::new(pac.WATCHDOG);
        let clocks = defmt::unwrap!(
            hal::clocks::init_clocks_and_plls(
                XTAL_HZ,
                pac.XOSC,
                pac.CLOCKS,
                pac.PLL_SYS,
                pac.PLL_USB,
                &mut pac.RESETS,
                &mut watchdog,
            )
            .ok()
        );
        let sio = hal::Sio::new(pac.SIO);
        let pins = hal::gpio::Pins::new(
            pac.IO_BANK0,
            pac.PADS_BANK0,
            sio.gpio_bank0,
            &mut pac.RESETS,
        );
        let led = pins.gpio25.into_push_pull_output();
        let uart_pins: UartPins = (
            pins.gpio0.into_function(),
            pins.gpio1.into_pull_type().into_function(),
        );
        let uart = defmt::unwrap!(
            UartPeripheral::new(pac.UART0, uart_pins, &mut pac.RESETS)
                .enable(
                    UartConfig::new(115_200.Hz(), DataBits::Eight, None, StopBits::One),
                    clocks.peripheral_clock.freq(),
                )
                .ok()
        );
        let (rx, tx) = uart.split();
        let timer = hal::Timer::new(pac.TIMER, &mut pac.RESETS, &clocks);
        Self {
            link: NbLink::new(tx, rx),
            led,
            delay: timer,
            meter: TimerMeter {
                timer,
                cycles_per_us: clocks.system_clock.freq().to_MHz(),
                start: 0,
            },
        }
    }
}

/// Core cycles from the 1 MHz TIMER: elapsed microseconds times the system clock in MHz, so
/// figures come in steps of 125 cycles (one microsecond).
pub struct TimerMeter {
    timer: hal::Timer,
    cycles_per_us: u32,
    start: u32,
}

impl InferenceMeter for TimerMeter {
    const UNIT: &'static str = "cycles";

    fn start(&mut self) {
        self.start = self.timer.get_counter_low();
    }

    fn stop(&mut self) -> u32 {
        let us = self.timer.get_counter_low().wrapping_sub(self.start);
        us.saturating_mul(self.cycles_per_us)
    }
}
