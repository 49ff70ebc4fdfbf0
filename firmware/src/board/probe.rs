//! What the Cortex-M boards flashed with probe-rs share: the exit that reports through
//! semihosting only while a debugger is attached, and the DWT cycle counter as the inference
//! meter (ARMv7-M and ARMv8-M Mainline; the Cortex-M0+ has no DWT cycle counter).

use cortex_m::peripheral::DWT;

use crate::InferenceMeter;

/// Ends the program with `code`: a semihosting exit when a debugger is attached (probe-rs
/// reports it as the exit code of `cargo run`), a reset otherwise (a semihosting call without a
/// debugger would fault).
pub fn exit(code: i32) -> ! {
    if !cortex_m::peripheral::DCB::is_debugger_attached() {
        cortex_m::peripheral::SCB::sys_reset();
    }
    semihosting::process::exit(code)
}

/// The DWT cycle counter (core cycles, wait states included). Enable it first
/// (`DCB::enable_trace`, `DWT::enable_cycle_counter`).
pub struct DwtMeter {
    start: u32,
}

impl DwtMeter {
    /// A meter over the (already enabled) cycle counter.
    pub const fn new() -> Self {
        Self { start: 0 }
    }
}

impl Default for DwtMeter {
    fn default() -> Self {
        Self::new()
    }
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
