//! What every QEMU machine shares: defmt over semihosting (decoded by `defmt-print` in the
//! runner), the semihosting exit that becomes QEMU's exit status, the machine marker the runner
//! reads, and a delay counted in instructions.

use embedded_hal::delay::DelayNs;

use defmt_semihosting as _; // global logger: semihosting stdout

/// Bytes of the machine marker.
const MARKER_LEN: usize = MARKER.len();
/// NUL-terminated, so that whatever the linker places after it cannot extend the name.
const MARKER: &str = concat!("qemu-machine=", env!("LENET_QEMU_MACHINE"), "\0");

/// `qemu-machine=<machine>\0`: `scripts/qemu.sh` (the cargo runner) finds this marker in the
/// ELF and starts that QEMU machine. `build.rs` names it from the target and the board features.
#[used]
#[unsafe(no_mangle)]
pub static LENET_QEMU_MACHINE: [u8; MARKER_LEN] = {
    let mut out = [0u8; MARKER_LEN];
    let bytes = MARKER.as_bytes();
    let mut i = 0;
    while i < MARKER_LEN {
        out[i] = bytes[i];
        i += 1;
    }
    out
};

/// Ends the program with `code`, which QEMU returns as its exit status (semihosting
/// `SYS_EXIT_EXTENDED`).
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

/// A busy-wait delay counted in instructions, one per nanosecond: exact guest time under
/// `-icount shift=0` (1 ns per instruction), and the same order of magnitude without icount.
///
/// Under `-icount` QEMU's virtual clock only advances with executed instructions, and every
/// peripheral read costs far more host time than an instruction, so a delay that polled a timer
/// would stretch 100 µs of guest time into milliseconds of host time; a spin loop keeps guest
/// time and host time close.
pub struct SpinDelay;

impl DelayNs for SpinDelay {
    fn delay_ns(&mut self, ns: u32) {
        // Both run about n instructions (n / 2 iterations of a decrement and a branch).
        #[cfg(target_arch = "arm")]
        cortex_m::asm::delay(ns);
        #[cfg(target_arch = "riscv32")]
        riscv::asm::delay(ns);
    }
}
