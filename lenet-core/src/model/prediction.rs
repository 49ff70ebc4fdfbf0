//! What a forward pass concludes.

use crate::shape::CLASSES;

/// A classification: the digit and the logits it was chosen from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction<T> {
    /// The predicted digit (argmax of `logits`, ties to the lowest digit).
    pub digit: u8,
    /// The raw logits.
    pub logits: [T; CLASSES],
}
