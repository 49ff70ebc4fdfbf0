//! Board support: each board module provides [`Board`] with the same fields, so the application
//! code does not change between targets.
//!
//! - `mps2_an386` (default): QEMU `mps2-an386`.
//! - `nucleo_f429zi` (feature `nucleo-f429zi`): NUCLEO-F429ZI.

#[cfg(not(feature = "nucleo-f429zi"))]
mod mps2_an386;
#[cfg(not(feature = "nucleo-f429zi"))]
pub use mps2_an386::*;

#[cfg(feature = "nucleo-f429zi")]
mod nucleo_f429zi;
#[cfg(feature = "nucleo-f429zi")]
pub use nucleo_f429zi::*;
