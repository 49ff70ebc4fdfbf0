//! Native tests of [`Engine`]: the committed blob's golden vectors, damaged blobs, precision and
//! input-size errors, and the canvas path against `host predict --image`'s file path.

use super::*;

const BLOB: &[u8] = include_bytes!("../../tests/fixtures/lenet-int8.blob");
const GOLDEN: &[u8] = include_bytes!("../../tests/fixtures/golden.bin");
/// One golden record: 784 pixels, label, expected digit, 10 expected int8 logits.
const RECORD: usize = PIXELS + 2 + CLASSES;

#[test]
fn golden_vectors_match_bit_for_bit() {
    let mut engine = Engine::new(BLOB).unwrap();
    assert!(engine.has_int8() && !engine.has_f32());
    assert_eq!(GOLDEN.len() % RECORD, 0);
    for rec in GOLDEN.chunks_exact(RECORD) {
        let pixels: &[u8; PIXELS] = rec[..PIXELS].try_into().unwrap();
        let c = engine.classify(pixels, Precision::Int8).unwrap();
        let expected: Vec<i8> = rec[PIXELS + 2..].iter().map(|&b| b as i8).collect();
        assert_eq!(c.logits_i8.unwrap().to_vec(), expected);
        assert_eq!(c.digit, rec[PIXELS + 1]);
        let sum: f32 = c.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "{sum}");
        let best = (0..CLASSES)
            .max_by(|&a, &b| c.probabilities[a].total_cmp(&c.probabilities[b]))
            .unwrap();
        assert_eq!(best, usize::from(c.digit));
    }
}

#[test]
fn damaged_blob_is_refused_with_its_error() {
    let mut flipped = BLOB.to_vec();
    flipped[BLOB.len() / 2] ^= 0x40;
    assert!(matches!(
        Engine::new(&flipped),
        Err(BlobError::ChecksumMismatch { .. })
    ));
    assert!(matches!(
        Engine::new(&BLOB[..100]),
        Err(BlobError::TooShort { .. })
    ));
    assert!(matches!(
        Engine::new(b"\x89PNG\r\n\x1a\n not a blob at all, just some bytes of a picture...."),
        Err(BlobError::BadMagic { .. })
    ));
    assert!(Engine::new(&[]).is_err());
}

#[test]
fn missing_precision_is_an_error() {
    let mut engine = Engine::new(BLOB).unwrap();
    let err = engine.classify(&[0; PIXELS], Precision::F32).unwrap_err();
    assert!(matches!(err, ClassifyError::NoNetwork(Precision::F32)));
    assert_eq!(err.to_string(), "this model has no f32 network");
}

#[test]
fn f32_only_blob_runs_the_float_network() {
    use lenet_core::blob::{Activation, BlobWriter, SectionId};
    let mut w = BlobWriter::new(Activation::Relu);
    for &s in SectionId::F32_SET.iter() {
        w.add_f32(s, &vec![0.01; s.elements()]).unwrap();
    }
    let mut engine = Engine::new(&w.finish().unwrap()).unwrap();
    assert!(engine.has_f32() && !engine.has_int8());
    let c = engine.classify(&[200; PIXELS], Precision::F32).unwrap();
    assert_eq!(c.logits_i8, None);
    // Equal weights give equal logits: all ten digits equally likely, the lowest one chosen.
    assert_eq!(c.digit, 0);
    assert!(c.probabilities.iter().all(|&p| (p - 0.1).abs() < 1e-5));
    let err = engine.classify(&[0; PIXELS], Precision::Int8).unwrap_err();
    assert_eq!(err.to_string(), "this model has no int8 network");
}

#[test]
fn wrong_rgba_size_and_blank_canvas_are_picture_errors() {
    let mut engine = Engine::new(BLOB).unwrap();
    let err = engine
        .classify_rgba(10, 10, &[0; 399], Precision::Int8)
        .unwrap_err();
    assert!(matches!(
        err,
        ClassifyError::Picture(ImageProblem::PixelBufferSize { len: 399, .. })
    ));
    let white = vec![255u8; 40 * 40 * 4];
    let err = engine
        .classify_rgba(40, 40, &white, Precision::Int8)
        .unwrap_err();
    assert!(matches!(err, ClassifyError::Picture(ImageProblem::NoInk)));
    let err = engine
        .classify_rgba(u32::MAX, u32::MAX, &[], Precision::Int8)
        .unwrap_err();
    assert!(matches!(
        err,
        ClassifyError::Picture(ImageProblem::TooLarge { .. })
    ));
}

#[test]
fn canvas_pixels_and_the_same_png_give_the_same_answer() {
    // A golden digit drawn 8x, dark on white, as a canvas holds it (opaque RGBA).
    let digit = &GOLDEN[..PIXELS];
    let side = 28 * 8 + 40;
    let mut rgba = vec![255u8; side * side * 4];
    for y in 0..28 * 8 {
        for x in 0..28 * 8 {
            let v = 255 - digit[(y / 8) * 28 + x / 8];
            let i = ((y + 20) * side + x + 20) * 4;
            rgba[i..i + 3].fill(v);
        }
    }
    let side = side as u32;
    let mut png = Vec::new();
    image::RgbaImage::from_raw(side, side, rgba.clone())
        .unwrap()
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut engine = Engine::new(BLOB).unwrap();
    let canvas = engine
        .classify_rgba(side, side, &rgba, Precision::Int8)
        .unwrap();
    // `host predict --image`'s path: the image crate decodes the file.
    let file = lenet_preprocess::digit_from_bytes(&png).unwrap();
    assert_eq!(canvas.pixels, file);
    assert_eq!(canvas.digit, GOLDEN[PIXELS + 1]);
}
