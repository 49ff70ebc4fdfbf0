//! ESP32-C3 (RV32IMC, ESP32-C3-DevKitM-1): glue over `esp-hal`.
//!
//! - Boot: the ESP-IDF second-stage bootloader (flashed by espflash) loads the app from the
//!   `factory` partition of `memory/esp32c3-partitions.csv` (4,032 KiB: the default 1 MiB app
//!   partition cannot hold the 1.20 MiB weight blob) after checking its app descriptor
//!   (`esp_app_desc!`, in `.flash.appdesc`). esp-hal's `linkall.x` maps flash through the cache
//!   (code at `0x4200_0000`, the blob and other read-only data at `0x3C00_0000`).
//! - Clocks: CPU at 160 MHz (`CpuClock::max()`); `esp_hal::init` disables the watchdogs.
//! - Link: UART0 on GPIO21 (TX) / GPIO20 (RX), 115200 8N1: on the DevKitM-1 it is wired to the
//!   board's USB-UART bridge (CP2102N), the `/dev/ttyUSB0` that espflash also flashes through.
//! - defmt: framed for espflash by esp-println (`defmt-espflash`), written to UART0 through the
//!   ROM's console routine, so log frames and protocol frames share the one port (the
//!   DevKitM-1 has no other USB serial path). The host's decoder treats the log bytes between
//!   protocol frames as bytes outside any frame and skips them (a log frame would need a valid
//!   CRC-32 to pass for a protocol frame); espflash's monitor decodes the log
//!   (`--log-format defmt`) but must be closed before `host classify --serial /dev/ttyUSB0` can
//!   open the port.
//! - Busy signal: GPIO8 as a plain push-pull output. The DevKitM-1's RGB LED on GPIO8 is an
//!   addressable WS2812: toggling its data line does not light it (a logic analyser or a plain
//!   LED on GPIO8 shows the busy time). GPIO8 is also a strapping pin, sampled only at reset.
//! - Delay: esp-hal's `Delay` (SYSTIMER). Meter: the CPU's machine performance counter
//!   (`mpccr`, CSR 0x7E2), set to count core clock cycles.
//!
//! Flashing (espflash 3 or 4, `cargo install espflash --locked`): from `firmware/`,
//! `cargo run --release --features esp32c3 --target riscv32imc-unknown-none-elf --target-dir
//! target/esp32c3 [--bin app]`: the runner finds the `espflash-chip=esp32c3` marker and runs
//! `espflash flash --monitor --log-format defmt --chip esp32c3 --partition-table
//! memory/esp32c3-partitions.csv <elf>`. [`exit`] halts: press Ctrl-R in the monitor to rerun,
//! Ctrl-C to leave it.

use esp_hal::Blocking;
use esp_hal::clock::CpuClock;
use esp_hal::delay::Delay;
use esp_hal::gpio::{Level, Output, OutputConfig};
use esp_hal::uart::{Config as UartConfig, Uart};

use crate::InferenceMeter;

use esp_println as _; // global logger: defmt frames on UART0, decoded by espflash

esp_bootloader_esp_idf::esp_app_desc!();

/// Logs `code` and halts: without a debugger there is nobody to return it to, and halting keeps
/// the self-test's last lines on espflash's monitor (Ctrl-R there resets the chip).
pub fn exit(code: i32) -> ! {
    defmt::info!("exit code {=i32}; halted", code);
    loop {
        riscv::asm::wfi();
    }
}

/// Board name for log lines.
pub const NAME: &str = "ESP32-C3 (RV32IMC @ 160 MHz)";

/// The espflash chip this firmware is flashed to. The runner in `.cargo/config.toml` finds this
/// marker in the ELF and runs `espflash flash --chip esp32c3` instead of QEMU.
#[used]
#[unsafe(no_mangle)]
pub static LENET_ESPFLASH_CHIP: [u8; 21] = *b"espflash-chip=esp32c3";

/// The inference meter of this board.
pub type Meter = CycleMeter;

/// Everything the application drives on this board.
pub struct Board {
    /// Serial link to the host (UART0, the DevKitM-1's USB-UART bridge).
    pub link: Uart<'static, Blocking>,
    /// Busy indicator (GPIO8).
    pub led: Output<'static>,
    /// Blocking delay (SYSTIMER).
    pub delay: Delay,
    /// Inference meter (`mpccr`, in cycles).
    pub meter: CycleMeter,
}

impl Board {
    /// Takes the peripherals and sets up the clock, the pins, the serial port and the cycle
    /// counter; call once.
    ///
    /// # Panics
    /// On a second call.
    pub fn take() -> Self {
        static TAKEN: crate::Once<()> = crate::Once::new(());
        defmt::unwrap!(TAKEN.take(), "Board::take called twice");
        // Keep the espflash marker and the app descriptor in the image.
        core::hint::black_box(&LENET_ESPFLASH_CHIP);
        core::hint::black_box(&ESP_APP_DESC);
        let p = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
        let led = Output::new(p.GPIO8, Level::Low, OutputConfig::default());
        let link =
            defmt::unwrap!(Uart::new(p.UART0, UartConfig::default().with_baudrate(115_200)).ok())
                .with_tx(p.GPIO21)
                .with_rx(p.GPIO20);
        // SAFETY: mpcer = 1 selects core clock cycles as the counted event, mpcmr = 1 enables
        // counting (wrapping, not saturating). Nothing else uses the counter.
        unsafe { core::arch::asm!("csrwi 0x7E0, 1", "csrwi 0x7E1, 1") };
        Self {
            link,
            led,
            delay: Delay::new(),
            meter: CycleMeter { start: 0 },
        }
    }
}

/// The ESP32-C3's machine performance counter (`mpccr`), counting core clock cycles.
pub struct CycleMeter {
    start: u32,
}

impl CycleMeter {
    fn read() -> u32 {
        let count: u32;
        // SAFETY: reads the counter CSR. Not `nomem`: the read stays ordered with the work it
        // measures.
        unsafe { core::arch::asm!("csrr {}, 0x7E2", out(reg) count, options(nostack)) };
        count
    }
}

impl InferenceMeter for CycleMeter {
    const UNIT: &'static str = "cycles";

    fn start(&mut self) {
        self.start = Self::read();
    }

    fn stop(&mut self) -> u32 {
        Self::read().wrapping_sub(self.start)
    }
}
