//! NUCLEO-F429ZI (STM32F429ZIT6, Cortex-M4F): glue over `stm32f4xx-hal`.
//!
//! - Clocks: 8 MHz HSE from the ST-LINK's MCO (bypass mode), SYSCLK 180 MHz.
//! - Link: USART3 on PD8 (TX) / PD9 (RX), wired to the ST-LINK virtual COM port, 115200 8N1.
//! - Busy LED: LD2 (blue, PB7). LD1 (green, PB0) is lit once the board is up.
//! - Delay: SysTick. Meter: DWT cycle counter (core cycles, wait states included).
//!
//! The HAL's serial halves speak `embedded-hal-nb`; [`NbLink`] adapts them to `embedded-io` 0.7.

use cortex_m::delay::Delay;
use stm32f4xx_hal::gpio::{Output, PB7};
use stm32f4xx_hal::pac;
use stm32f4xx_hal::prelude::*;
use stm32f4xx_hal::rcc::Config;
use stm32f4xx_hal::serial::{Rx, Tx};

pub use super::nb_link::{LinkError, NbLink};
pub use super::probe::{DwtMeter, exit};

use defmt_rtt as _; // global logger: RTT, decoded by probe-rs

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
            meter: DwtMeter::new(),
        }
    }
}
