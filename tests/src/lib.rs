//! Cross-crate parity tests live in `tests/`.
