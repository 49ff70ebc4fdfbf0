//! The golden-vector self-test: every golden image through the int8 network, logits compared
//! bit for bit.

use embedded_hal::digital::OutputPin;
use heapless::Vec;
use lenet_core::{I8Model, ScratchI8};

use crate::golden::Golden;
use crate::{InferenceMeter, classify};

/// How many mismatching record indices a [`Report`] keeps.
pub const MAX_LISTED_FAILURES: usize = 16;

/// The outcome of [`run`].
#[derive(Debug, Clone)]
pub struct Report {
    /// Records checked.
    pub total: usize,
    /// Records whose digit and logits matched.
    pub passed: usize,
    /// Cost of the first inference (the reference figure).
    pub first: u32,
    /// Cheapest inference.
    pub min: u32,
    /// Most expensive inference.
    pub max: u32,
    /// Indices of the first mismatching records.
    pub failures: Vec<u16, MAX_LISTED_FAILURES>,
}

impl Report {
    /// Whether every record matched.
    pub fn passed(&self) -> bool {
        self.total > 0 && self.passed == self.total
    }
}

/// Classifies every golden record, logs each result, and compares digit and logits with the
/// expected ones. `busy` is driven high during each inference; `meter` measures it.
pub fn run<M: InferenceMeter, P: OutputPin>(
    model: &I8Model<'_>,
    golden: &Golden<'_>,
    scratch: &mut ScratchI8,
    meter: &mut M,
    busy: &mut P,
) -> Report {
    let mut report = Report {
        total: 0,
        passed: 0,
        first: 0,
        min: u32::MAX,
        max: 0,
        failures: Vec::new(),
    };
    for (i, record) in golden.records().enumerate() {
        let _ = busy.set_high();
        meter.start();
        let prediction = classify(model, record.image(), scratch);
        let cost = meter.stop();
        let _ = busy.set_low();

        if report.total == 0 {
            report.first = cost;
        }
        report.total += 1;
        report.min = report.min.min(cost);
        report.max = report.max.max(cost);
        let ok = prediction.logits == record.logits() && prediction.digit == record.digit();
        if ok {
            report.passed += 1;
            defmt::info!(
                "golden {=usize}: label {=u8} digit {=u8} logits {} ok ({=u32} {=str})",
                i,
                record.label(),
                prediction.digit,
                prediction.logits,
                cost,
                M::UNIT
            );
        } else {
            let _ = report.failures.push(i as u16);
            defmt::error!(
                "golden {=usize}: label {=u8} MISMATCH: digit {=u8} logits {}, expected digit {=u8} logits {}",
                i,
                record.label(),
                prediction.digit,
                prediction.logits,
                record.digit(),
                record.logits()
            );
        }
    }
    report
}
