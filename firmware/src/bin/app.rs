//! Serial classification service: answers `lenet_core::protocol` frames on the board's serial
//! link (QEMU: UART0; NUCLEO-F429ZI: USART3, the ST-LINK virtual COM port).
#![no_std]
#![no_main]

use lenet_firmware::board::{self, Board};
use lenet_firmware::service::Service;
use lenet_firmware::{assets, entry, exit, exit_code};

// riscv-rt's `entry` wraps `main` in an undocumented public function.
#[allow(missing_docs)]
#[entry]
fn main() -> ! {
    let board = Board::take();
    defmt::info!("lenet serial service on {=str}", board::NAME);
    let model = match assets::int8_model() {
        Ok(model) => model,
        Err(e) => {
            defmt::error!("blob: {}", e);
            exit(exit_code::BAD_BLOB)
        }
    };
    let scratch = lenet_firmware::scratch();
    Service {
        link: board.link,
        busy: board.led,
        delay: board.delay,
        meter: board.meter,
        model,
        scratch,
    }
    .run()
}
