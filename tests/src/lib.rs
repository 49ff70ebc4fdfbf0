//! Cross-crate parity tests live in `tests/`; this library holds what they share with the
//! fixture generators in `src/bin/`.
//!
//! - [`tie_stress`]: the rounding-tie stress set (`tests/fixtures/tie-stress.blob` and
//!   `tests/fixtures/golden-tie-stress.bin`), written by
//!   `cargo run -p parity --bin make_tie_stress`.

pub mod tie_stress;
