//! CPU feature detection for the x86-64 kernels: `std::is_x86_feature_detected!` once per
//! process, cached in an atomic.

use std::sync::atomic::{AtomicU8, Ordering};

/// Bits of the cached feature level; 0 means not yet detected.
const KNOWN: u8 = 1;
const AVX2: u8 = 2;
const AVX512F: u8 = 4;
const AVX512_VNNI: u8 = 8;

static LEVEL: AtomicU8 = AtomicU8::new(0);

fn level() -> u8 {
    let l = LEVEL.load(Ordering::Relaxed);
    if l != 0 {
        return l;
    }
    let mut l = KNOWN;
    if std::is_x86_feature_detected!("avx2") {
        l |= AVX2;
    }
    if std::is_x86_feature_detected!("avx512f") {
        l |= AVX512F;
        if std::is_x86_feature_detected!("avx512bw") && std::is_x86_feature_detected!("avx512vnni")
        {
            l |= AVX512_VNNI;
        }
    }
    LEVEL.store(l, Ordering::Relaxed);
    l
}

/// Whether this CPU runs the int8 AVX-512 path (AVX-512 F, BW and VNNI). Detected once, then
/// cached.
pub fn int8_available() -> bool {
    level() & AVX512_VNNI != 0
}

/// Whether this CPU runs the f32 fast path (AVX-512 F). Detected once, then cached.
pub fn f32_available() -> bool {
    level() & AVX512F != 0
}

/// Whether this CPU has AVX2, which runs the int8 AVX2 path ([`I8Isa::Avx2`](super::I8Isa))
/// where the AVX-512 VNNI one is not available. Detected once, then cached.
pub fn avx2_available() -> bool {
    level() & AVX2 != 0
}
