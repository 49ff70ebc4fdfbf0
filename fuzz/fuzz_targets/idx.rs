//! The MNIST IDX reader on arbitrary file contents: optional gzip layer, then the image and the
//! label parsers. A header claiming 2^32 images must be rejected before any large allocation
//! (libFuzzer's `-rss_limit_mb` turns a large allocation into a crash).
#![no_main]

use host::data::{PIXELS, gunzip_if_gz, parse_images, parse_labels};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(content) = gunzip_if_gz(data.to_vec()) else {
        return;
    };
    if let Ok(images) = parse_images(&content) {
        assert_eq!(images.len() % PIXELS, 0);
        assert!(images.len() < content.len());
    }
    if let Ok(labels) = parse_labels(&content) {
        assert!(labels.iter().all(|&l| l <= 9));
        assert!(labels.len() < content.len());
    }
});
