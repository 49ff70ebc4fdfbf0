//! Unit tests of [`super`]: decoding limits (huge headers, pixel budget, garbage, truncation),
//! polarity, transparency, cropping and centring, and a proptest on mutated PNG and JPEG files.

use super::*;
use image::{ImageEncoder, Luma, Rgba, RgbaImage};

/// A tiny PNG whose IHDR claims the given size and colour, followed by an IDAT chunk holding
/// an empty zlib stream and IEND: far too little data for the size it claims.
fn png_header(width: u32, height: u32, depth: u8, colour: u8) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, colour, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", &ihdr[..]),
        (
            b"IDAT",
            &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01][..],
        ),
        (b"IEND", &[][..]),
    ] {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        png.extend_from_slice(&crc.sum().to_be_bytes());
    }
    png
}

fn png_bytes(img: &DynamicImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .unwrap();
    bytes
}

/// A dark "L"-shaped stroke on light paper, off-centre in a 90x70 image.
fn dark_on_light() -> GrayImage {
    GrayImage::from_fn(90, 70, |x, y| {
        let stroke = ((10..16).contains(&x) && (8..50).contains(&y))
            || ((10..40).contains(&x) && (44..50).contains(&y));
        Luma([if stroke { 30 } else { 225 }])
    })
}

#[test]
fn huge_png_header_is_too_large_before_decoding() {
    let png = png_header(100_000, 100_000, 8, 0);
    assert!(png.len() < 80);
    let err = digit_from_bytes(&png).unwrap_err();
    assert!(
        matches!(
            err,
            ImageProblem::TooLarge {
                width: 100_000,
                height: 100_000
            }
        ),
        "{err:?}"
    );
}

#[test]
fn png_over_pixel_budget_is_too_large() {
    // Within MAX_SIDE on both sides, but 12000 x 12000 x 8 bytes (16-bit RGBA) = 1.07 GiB.
    let png = png_header(12_000, 12_000, 16, 6);
    let err = digit_from_bytes(&png).unwrap_err();
    assert!(matches!(err, ImageProblem::TooLarge { .. }), "{err:?}");
    // Under MAX_PIXELS but over MAX_ALLOC: the decoder's own limit answers, still typed.
    let png = png_header(7_000, 7_000, 16, 6);
    let err = digit_from_bytes(&png).unwrap_err();
    assert!(
        matches!(
            err,
            ImageProblem::TooLarge {
                width: 7_000,
                height: 7_000
            }
        ),
        "{err:?}"
    );
}

#[test]
fn garbage_is_unsupported_format() {
    let err = digit_from_bytes(b"not an image at all").unwrap_err();
    assert!(matches!(err, ImageProblem::UnsupportedFormat), "{err:?}");
}

#[test]
fn truncated_png_is_decode_error() {
    let png = png_header(40, 40, 8, 0);
    let err = digit_from_bytes(&png).unwrap_err();
    assert!(matches!(err, ImageProblem::Decode(_)), "{err:?}");
}

#[test]
fn all_white_image_is_no_ink() {
    let img = DynamicImage::ImageLuma8(GrayImage::from_pixel(120, 80, Luma([255])));
    let err = digit_from_bytes(&png_bytes(&img)).unwrap_err();
    assert!(matches!(err, ImageProblem::NoInk), "{err:?}");
    let faint = GrayImage::from_fn(60, 60, |x, _| Luma([200 + (x % 3) as u8 * 5]));
    let err = digit_from_image(&DynamicImage::ImageLuma8(faint)).unwrap_err();
    assert!(matches!(err, ImageProblem::NoInk), "{err:?}");
}

#[test]
fn dark_on_light_digit_is_inverted() {
    let d = digit_from_image(&DynamicImage::ImageLuma8(dark_on_light())).unwrap();
    // The stroke is bright, the background black; the corners are background.
    assert_eq!(d[0], 0);
    assert_eq!(d[PIXELS - 1], 0);
    assert_eq!(*d.iter().max().unwrap(), 255);
    let lit = d.iter().filter(|&&v| v > 128).count();
    assert!((40..200).contains(&lit), "{lit} bright pixels");
    // The same stroke light on dark gives the same digit.
    let mut light = dark_on_light();
    imageops::invert(&mut light);
    let e = digit_from_image(&DynamicImage::ImageLuma8(light)).unwrap();
    assert_eq!(d, e);
}

#[test]
fn transparent_drawing_keeps_its_strokes() {
    let grey = dark_on_light();
    let rgba = RgbaImage::from_fn(grey.width(), grey.height(), |x, y| {
        if grey.get_pixel(x, y).0[0] < 128 {
            Rgba([0, 0, 0, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let d = digit_from_image(&DynamicImage::ImageRgba8(rgba)).unwrap();
    let expected = digit_from_image(&DynamicImage::ImageLuma8(grey)).unwrap();
    let lit = |p: &[u8; PIXELS]| p.iter().filter(|&&v| v > 128).count();
    assert!(lit(&d).abs_diff(lit(&expected)) < 10);
}

#[test]
fn centre_of_mass_lands_at_the_centre() {
    // A lopsided blob: heavy top-left block, thin tail to the right, far off-centre.
    let img = GrayImage::from_fn(300, 200, |x, y| {
        let block = (200..240).contains(&x) && (20..70).contains(&y);
        let tail = (240..290).contains(&x) && (60..66).contains(&y);
        Luma([if block || tail { 10 } else { 170 }])
    });
    let d = digit_from_image(&DynamicImage::ImageLuma8(img)).unwrap();
    let (cx, cy) = centre_of_mass(&d).unwrap();
    assert!(
        (cx - 14.0).abs() <= 1.0 && (cy - 14.0).abs() <= 1.0,
        "({cx}, {cy})"
    );
}

#[test]
fn longer_side_becomes_twenty_pixels() {
    let mut tall = GrayImage::new(50, 400);
    for y in 100..300 {
        for x in 20..30 {
            tall.put_pixel(x, y, Luma([255]));
        }
    }
    let d = digit_from_image(&DynamicImage::ImageLuma8(tall)).unwrap();
    let rows = (0..SIDE)
        .filter(|r| d[r * SIDE..(r + 1) * SIDE].iter().any(|&v| v > 0))
        .count();
    assert!((20..=22).contains(&rows), "{rows} rows of ink");
}

#[test]
fn jpeg_decodes() {
    let img = DynamicImage::ImageLuma8(dark_on_light());
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85)
        .write_image(img.as_bytes(), 90, 70, image::ExtendedColorType::L8)
        .unwrap();
    let d = digit_from_bytes(&bytes).unwrap();
    assert!(d.iter().filter(|&&v| v > 128).count() > 40);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Corrupting bytes of a valid PNG or JPEG gives a digit or a typed error, never a panic.
    #[test]
    fn mutated_images_never_panic(
        jpeg in proptest::prelude::any::<bool>(),
        edits in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 1..12),
        truncate in proptest::option::of(0usize..4096),
    ) {
        let img = DynamicImage::ImageLuma8(dark_on_light());
        let mut bytes = if jpeg {
            let mut b = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut b, 85)
                .write_image(img.as_bytes(), 90, 70, image::ExtendedColorType::L8)
                .unwrap();
            b
        } else {
            png_bytes(&img)
        };
        for (at, v) in edits {
            let n = bytes.len();
            bytes[at % n] = v;
        }
        if let Some(t) = truncate {
            bytes.truncate(t);
        }
        let _ = digit_from_bytes(&bytes);
    }
}
