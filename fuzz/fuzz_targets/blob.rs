//! Blob parsing, then a full int8 and f32 inference on whatever parses.
//!
//! The first input byte picks the mode. Bit 0 clear: the rest of the input is the blob. Bit 0
//! set: the rest is a list of 5-byte patches (`u32` LE offset, XOR byte) applied to a valid blob
//! (bit 2 set: the committed compact blob, int4 fc1 weights; else bit 1 clear: the committed int8
//! blob; set: a blob carrying both models), whose CRC is then
//! recomputed, so the checks behind the CRC (header fields, section table, shapes, quantization
//! parameters) are reached and inference runs on odd parameters.
#![no_main]

use std::sync::OnceLock;

use lenet_core::aligned::AlignedBytes;
use lenet_core::blob::{Activation, BlobWriter, CRC_START, Header, SectionId, crc32};
use lenet_core::{I8Model, Model, ScratchF32, ScratchI8, pixels_to_f32};
use libfuzzer_sys::fuzz_target;

/// The committed int8 blob.
const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/lenet-int8.blob");

/// The committed compact blob (fc1 weights at 4 bits).
const INT4_FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/lenet-int4.blob");

/// A valid blob with both models: the committed int8 model plus small f32 weights.
fn both() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| {
        let fixture = AlignedBytes::new(FIXTURE);
        let m = Model::parse(fixture.bytes()).expect("fixture");
        let mut w = BlobWriter::new(Activation::Relu);
        for &s in SectionId::F32_SET.iter() {
            let v: Vec<f32> = (0..s.elements())
                .map(|i| ((i * 7919 % 201) as f32 - 100.0) * 1e-3)
                .collect();
            w.add_f32(s, &v).expect("f32 section");
        }
        for &s in SectionId::INT8_SET.iter() {
            let b = m.sections().get(s).expect("int8 section").to_vec();
            w.add_bytes(s, b).expect("int8 section");
        }
        w.finish().expect("blob")
    })
}

/// Parses `blob` with both parsers and, when it parses, classifies `pixels` with every model it
/// carries.
fn check(blob: &[u8], pixels: &[u8; 784]) {
    let lean = I8Model::parse(blob);
    let Ok(model) = Model::parse(blob) else {
        assert!(
            lean.is_err(),
            "the int8 parser accepted a blob the full parser rejects"
        );
        return;
    };
    // The int8-only parser accepts exactly the blobs that carry an int8 model.
    assert_eq!(lean.is_ok(), model.int8().is_some());
    if let Some(q) = model.int8() {
        let p = q.predict(pixels, &mut ScratchI8::new());
        assert!(p.digit < 10);
    }
    if let Some(f) = model.f32() {
        let p = f.predict(&pixels_to_f32(pixels), &mut ScratchF32::new());
        assert!(p.digit < 10);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut pixels = [0u8; 784];
    for (i, p) in pixels.iter_mut().enumerate() {
        *p = data[i % data.len()].wrapping_mul(i as u8 | 1);
    }
    if mode & 1 == 0 {
        check(AlignedBytes::new(rest).bytes(), &pixels);
        return;
    }
    let base = if mode & 4 != 0 {
        INT4_FIXTURE
    } else if mode & 2 == 0 {
        FIXTURE
    } else {
        both()
    };
    let mut aligned = AlignedBytes::new(base);
    let blob = aligned.bytes_mut();
    for patch in rest.chunks_exact(5) {
        let at = u32::from_le_bytes([patch[0], patch[1], patch[2], patch[3]]) as usize;
        let at = at % blob.len();
        blob[at] ^= patch[4];
    }
    // Keep the CRC valid so the parser looks past it: the header's CRC field holds the CRC of
    // `[CRC_START, total_len)`.
    let total =
        u32::from_le_bytes(blob[Header::TOTAL_LEN_AT].try_into().expect("4 bytes")) as usize;
    let crc = crc32(&blob[CRC_START..total.clamp(CRC_START, blob.len())]);
    blob[Header::CRC32_AT].copy_from_slice(&crc.to_le_bytes());
    check(blob, &pixels);
});
