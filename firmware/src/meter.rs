//! Measuring the cost of one inference.

/// A counter started before and read after an inference.
pub trait InferenceMeter {
    /// What is counted, as printed: `"instructions"` (QEMU `-icount`) or `"cycles"` (DWT).
    const UNIT: &'static str;

    /// Starts a measurement.
    fn start(&mut self);

    /// Units elapsed since [`InferenceMeter::start`].
    fn stop(&mut self) -> u32;
}
