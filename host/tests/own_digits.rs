//! `host predict --image` on digits that look like a user's: real MNIST test digits rendered
//! into larger PNG and JPEG pictures (2x-6x, anywhere in a bigger canvas, dark on light or light
//! on dark, grey and tinted colours, some with noise, some on a transparent layer), then read back
//! through the same preprocessing and int8 model as the CLI. The accuracy on the pictures must
//! stay close to the accuracy on the original 28x28 images. Needs the MNIST files (`$MNIST_DIR`).

use std::path::{Path, PathBuf};

use host::data::{self, PIXELS, Split};
use host::eval::{self, Report};
use host::preprocess;
use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use lenet_core::Model;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Test images rendered.
const COUNT: usize = 500;
/// Largest accuracy loss allowed, in percentage points.
const MAX_LOSS_PP: f64 = 1.5;

fn blob_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/lenet-int8.blob")
}

/// A random colour near grey level `level` (channels differ by up to `tint`).
fn colour(rng: &mut ChaCha8Rng, level: i32, tint: i32) -> [i32; 3] {
    [0; 3].map(|_| (level + rng.random_range(-tint..=tint)).clamp(0, 255))
}

/// Renders one 28x28 MNIST digit as a picture a person might give the CLI and writes it under
/// `dir`; returns the path.
fn render(pixels: &[u8; PIXELS], index: usize, rng: &mut ChaCha8Rng, dir: &Path) -> PathBuf {
    let digit = GrayImage::from_raw(28, 28, pixels.to_vec()).expect("28x28");
    let scale = rng.random_range(2.0..=6.0f64);
    let side = (28.0 * scale).round() as u32;
    let big = imageops::resize(&digit, side, side, FilterType::Triangle);
    let (left, top) = (rng.random_range(0..=70), rng.random_range(0..=50));
    let (w, h) = (
        side + left + rng.random_range(0..=70),
        side + top + rng.random_range(0..=50),
    );
    let dark_ink = rng.random_bool(0.5);
    let (bg, ink) = if dark_ink {
        (rng.random_range(170..=255), rng.random_range(0..=90))
    } else {
        (rng.random_range(0..=85), rng.random_range(165..=255))
    };
    let tint = if rng.random_bool(0.3) { 30 } else { 0 };
    let (bg, ink) = (colour(rng, bg, tint), colour(rng, ink, tint));
    let noise = if rng.random_bool(0.35) {
        rng.random_range(1..=12)
    } else {
        0
    };
    let mut img = RgbImage::new(w, h);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let v = if (left..left + side).contains(&x) && (top..top + side).contains(&y) {
            i32::from(big.get_pixel(x - left, y - top).0[0])
        } else {
            0
        };
        let n = if noise > 0 {
            rng.random_range(-noise..=noise)
        } else {
            0
        };
        *p = Rgb([0, 1, 2].map(|c| (bg[c] + (ink[c] - bg[c]) * v / 255 + n).clamp(0, 255) as u8));
    }
    match index % 10 {
        // A drawing on a transparent layer: the ink's coverage becomes its alpha.
        0 => {
            let layer = RgbaImage::from_fn(w, h, |x, y| {
                let v = if (left..left + side).contains(&x) && (top..top + side).contains(&y) {
                    big.get_pixel(x - left, y - top).0[0]
                } else {
                    0
                };
                Rgba([ink[0] as u8, ink[1] as u8, ink[2] as u8, v])
            });
            let path = dir.join(format!("{index}.png"));
            DynamicImage::ImageRgba8(layer)
                .save_with_format(&path, ImageFormat::Png)
                .expect("writing PNG");
            path
        }
        i if i % 2 == 1 => {
            let path = dir.join(format!("{index}.png"));
            img.save_with_format(&path, ImageFormat::Png)
                .expect("writing PNG");
            path
        }
        _ => {
            let path = dir.join(format!("{index}.jpg"));
            let quality = rng.random_range(70..=95);
            let file = std::fs::File::create(&path).expect("creating JPEG");
            image::codecs::jpeg::JpegEncoder::new_with_quality(file, quality)
                .encode_image(&img)
                .expect("writing JPEG");
            path
        }
    }
}

#[test]
fn rendered_digits_classify_like_the_originals() {
    let test = data::load_test(&data::resolve_dir(None))
        .unwrap_or_else(|e| panic!("set MNIST_DIR to the MNIST files: {e}"))
        .take(COUNT);
    let blob = host::export::read_blob(&blob_path()).expect("reading the fixture blob");
    let model = Model::parse(blob.bytes()).expect("fixture blob parses");
    let q = model.int8().expect("fixture blob has the int8 model");

    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut rendered = Split::default();
    for i in 0..test.len() {
        let path = render(test.image(i), i, &mut rng, dir.path());
        let pixels = preprocess::load_digit(&path).unwrap_or_else(|e| panic!("{e}"));
        rendered.images.extend_from_slice(&pixels);
        rendered.labels.push(test.labels[i]);
    }

    let plain: Vec<u8> = eval::run_int8(q, &test).iter().map(|a| a.digit).collect();
    let seen: Vec<u8> = eval::run_int8(q, &rendered)
        .iter()
        .map(|a| a.digit)
        .collect();
    let plain_acc = Report::new(plain.iter().copied(), &test.labels).accuracy_pct();
    let seen_acc = Report::new(seen.iter().copied(), &test.labels).accuracy_pct();
    let agree = 100.0 * eval::agreement(&plain, &seen);
    println!(
        "int8 on the first {} MNIST test images: plain 28x28 {plain_acc:.2}%, rendered as PNG/JPEG \
         and preprocessed {seen_acc:.2}% ({:+.2} pp), same answer on {agree:.2}%",
        test.len(),
        seen_acc - plain_acc
    );
    assert!(
        seen_acc >= plain_acc - MAX_LOSS_PP,
        "rendered accuracy {seen_acc:.2}% is more than {MAX_LOSS_PP} pp below plain {plain_acc:.2}%"
    );
}
