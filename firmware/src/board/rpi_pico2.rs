//! Raspberry Pi Pico 2 (RP2350A, Cortex-M33 with the DSP extension): glue over `rp235x-hal`.
//!
//! - Boot: the boot ROM looks for [`IMAGE_DEF`] (a secure Arm executable) in the first 4 KiB of
//!   flash; `memory/rpi-pico2.x` places its `.start_block` right after the vector table.
//! - Entry: cortex-m-rt's `#[entry]` (the crate's [`crate::entry`]), which rp235x-hal's own
//!   `#[entry]` wraps: that wrapper also releases the SIO spinlocks (used by the HAL's
//!   `critical-section-impl`, not enabled here: cortex-m's single-core critical section is, and
//!   core 1 is never started) and grants access to the DCP and GPIO coprocessors (not used).
//! - Clocks: 12 MHz crystal, system clock 150 MHz (`init_clocks_and_plls`).
//! - Link: UART0 on GPIO0 (TX, pin 1) / GPIO1 (RX, pin 2; pulled up), 115200 8N1, through the
//!   HAL's own `embedded-io` 0.7 implementation. Wire a 3.3 V USB-UART adapter to it
//!   (`/dev/ttyUSB0`), or use the UART bridge of a Raspberry Pi Debug Probe (`/dev/ttyACM*`).
//! - Busy LED: the green LED on GPIO25.
//! - Delay: TIMER0 (1 MHz). Meter: DWT cycle counter (core cycles).
//! - defmt over RTT, which needs an SWD probe (probe-rs): a UF2-flashed image runs but shows no
//!   log.
//!
//! Flashing:
//! - probe-rs (a Debug Probe on the SWD pins): from `firmware/`, `cargo run --release --features
//!   rpi-pico2 --target thumbv8m.main-none-eabihf --target-dir target/rpi-pico2 [--bin app]`:
//!   the runner finds the `probe-rs-chip=RP235x` marker and runs `probe-rs run --chip RP235x`.
//! - No probe: hold BOOTSEL while plugging the Pico 2 in, then `picotool load -u -v -x -t elf
//!   target/rpi-pico2/thumbv8m.main-none-eabihf/release/app` (picotool 2.x, which knows the
//!   RP2350; `picotool uf2 convert` writes a UF2 file to copy onto the RP2350 drive instead).

use rp235x_hal as hal;

use hal::Clock;
use hal::fugit::RateExtU32;
use hal::gpio::bank0::{Gpio0, Gpio1, Gpio25};
use hal::gpio::{FunctionSioOutput, FunctionUart, Pin, PullDown, PullUp};
use hal::pac;
use hal::timer::CopyableTimer0;
use hal::uart::{DataBits, Enabled, StopBits, UartConfig, UartPeripheral};

pub use super::probe::{DwtMeter, exit};

use defmt_rtt as _; // global logger: RTT, decoded by probe-rs

/// Tells the boot ROM that this is a secure Arm executable (section `.start_block`, in the first
/// 4 KiB of flash; `memory/rpi-pico2.x`). Without it the boot ROM does not start the image.
#[used]
#[unsafe(link_section = ".start_block")]
pub static IMAGE_DEF: hal::block::ImageDef = hal::block::ImageDef::secure_exe();

/// Board name for log lines.
pub const NAME: &str = "Raspberry Pi Pico 2 (RP2350, Cortex-M33 @ 150 MHz)";

/// The probe-rs target this firmware is flashed to. The runner in `.cargo/config.toml` finds
/// this marker in the ELF and runs `probe-rs run --chip RP235x` instead of QEMU.
#[used]
#[unsafe(no_mangle)]
pub static LENET_PROBE_RS_CHIP: [u8; 20] = *b"probe-rs-chip=RP235x";

/// Frequency of the Pico 2's crystal oscillator.
pub const XTAL_HZ: u32 = 12_000_000;

/// The inference meter of this board.
pub type Meter = DwtMeter;

/// UART0 on GPIO0 (TX) and GPIO1 (RX, pulled up so an unconnected line idles high).
pub type UartPins = (
    Pin<Gpio0, FunctionUart, PullDown>,
    Pin<Gpio1, FunctionUart, PullUp>,
);

/// Everything the application drives on this board.
pub struct Board {
    /// Serial link to the host (UART0 on GPIO0/GPIO1).
    pub link: UartPeripheral<Enabled, pac::UART0, UartPins>,
    /// Busy indicator (the LED on GPIO25).
    pub led: Pin<Gpio25, FunctionSioOutput, PullDown>,
    /// Blocking delay (TIMER0, 1 MHz).
    pub delay: hal::Timer<CopyableTimer0>,
    /// Inference meter (DWT CYCCNT, in cycles).
    pub meter: DwtMeter,
}

impl Board {
    /// Takes the peripherals and sets up clocks, pins and the serial port; call once.
    pub fn take() -> Self {
        // Keep the probe-rs marker and the boot block in the image.
        core::hint::black_box(&LENET_PROBE_RS_CHIP);
        core::hint::black_box(&IMAGE_DEF);
        let mut pac = defmt::unwrap!(pac::Peripherals::take());
        let mut cp = defmt::unwrap!(cortex_m::Peripherals::take());
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
        let link = defmt::unwrap!(
            UartPeripheral::new(pac.UART0, uart_pins, &mut pac.RESETS)
                .enable(
                    UartConfig::new(115_200.Hz(), DataBits::Eight, None, StopBits::One),
                    clocks.peripheral_clock.freq(),
                )
                .ok()
        );
        cp.DCB.enable_trace();
        if !cortex_m::peripheral::DWT::has_cycle_counter() {
            defmt::warn!("no DWT cycle counter: inference costs will read 0");
        }
        cp.DWT.enable_cycle_counter();
        Self {
            link,
            led,
            delay: hal::Timer::new_timer0(pac.TIMER0, &mut pac.RESETS, &clocks),
            meter: DwtMeter::new(),
        }
    }
}
