//! Image preprocessing for `host predict --image` on arbitrary file contents: format sniffing,
//! the header-size check and decoder limits, PNG/JPEG decoding, then the MNIST-style
//! preprocessing. A header claiming 100k x 100k pixels must be rejected before decoding.
#![no_main]

use host::preprocess::digit_from_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(digit) = digit_from_bytes(data) {
        assert_eq!(digit.len(), 28 * 28);
    }
});
