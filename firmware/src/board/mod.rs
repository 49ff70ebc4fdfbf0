//! Board support: each board module provides [`Board`] with the same fields (`link`, `led`,
//! `delay`, `meter`), [`NAME`], the [`Meter`] type and `exit`, so the application code does
//! not change between targets. `build.rs` selects one by the `board` cfg:
//!
//! | `board` | selected by | module |
//! |---|---|---|
//! | `mps2` | `thumbv6m`, `thumbv7m`, `thumbv7em` (QEMU mps2-an385, -an386, -an500) | `mps2` |
//! | `mps2-an505` | `thumbv8m.main` (QEMU mps2-an505, Cortex-M33) | `mps2_tz` |
//! | `mps3-an547` | `thumbv8m.main` + feature `mps3-an547` (Cortex-M55) | `mps2_tz` |
//! | `qemu-virt` | `riscv32imc` (QEMU virt) | `qemu_virt` |
//! | `nucleo-f429zi` | feature `nucleo-f429zi` (`thumbv7em-none-eabihf`) | `nucleo_f429zi` |
//! | `rpi-pico` | feature `rpi-pico` (`thumbv6m-none-eabi`) | `rpi_pico` |
//! | `rpi-pico2` | feature `rpi-pico2` (`thumbv8m.main-none-eabihf`) | `rpi_pico2` |
//! | `nrf52840-dk` | feature `nrf52840-dk` (`thumbv7em-none-eabihf`) | `nrf52840_dk` |
//! | `esp32c3` | feature `esp32c3` (`riscv32imc-unknown-none-elf`) | `esp32c3` |
//!
//! Adding a board is a Cargo feature, a memory map (`memory/<board>.x`; the ESP32-C3 links with
//! esp-hal's own scripts instead), a glue module here and a line in `build.rs`.

#[cfg(any(board = "mps2", board = "mps2-an505", board = "mps3-an547"))]
pub mod cmsdk;
#[cfg(any(
    board = "mps2",
    board = "mps2-an505",
    board = "mps3-an547",
    board = "qemu-virt"
))]
pub mod qemu;

#[cfg(board = "mps2")]
mod mps2;
#[cfg(board = "mps2")]
pub use mps2::*;

#[cfg(any(board = "mps2-an505", board = "mps3-an547"))]
mod mps2_tz;
#[cfg(any(board = "mps2-an505", board = "mps3-an547"))]
pub use mps2_tz::*;

#[cfg(board = "qemu-virt")]
mod qemu_virt;
#[cfg(board = "qemu-virt")]
pub use qemu_virt::*;

#[cfg(any(board = "nucleo-f429zi", board = "rpi-pico"))]
pub mod nb_link;
#[cfg(any(board = "nucleo-f429zi", board = "rpi-pico2", board = "nrf52840-dk"))]
pub mod probe;

#[cfg(board = "nucleo-f429zi")]
mod nucleo_f429zi;
#[cfg(board = "nucleo-f429zi")]
pub use nucleo_f429zi::*;

#[cfg(board = "rpi-pico")]
mod rpi_pico;
#[cfg(board = "rpi-pico")]
pub use rpi_pico::*;

#[cfg(board = "rpi-pico2")]
mod rpi_pico2;
#[cfg(board = "rpi-pico2")]
pub use rpi_pico2::*;

#[cfg(board = "nrf52840-dk")]
mod nrf52840_dk;
#[cfg(board = "nrf52840-dk")]
pub use nrf52840_dk::*;

#[cfg(board = "esp32c3")]
mod esp32c3;
#[cfg(board = "esp32c3")]
pub use esp32c3::*;
