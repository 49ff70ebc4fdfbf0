//! Turning a picture of a handwritten digit (PNG or JPEG, any size, either polarity) into the
//! 28x28 input the network was trained on, the way MNIST itself was made.
//!
//! MNIST digits are light ink on a black background, scaled so that the longer side of the
//! ink's bounding box is 20 pixels, anti-aliased, and placed in a 28x28 field with the ink's
//! centre of mass at the centre. [`digit_from_image`] repeats those steps:
//!
//! 1. **Greyscale.** Luma; transparent pixels are composited onto the colour opposite to the
//!    opaque pixels' mean, so strokes drawn on a transparent layer stay visible. Pictures over
//!    [`WORK_SIDE`] pixels on their longer side are shrunk to it first.
//! 2. **Polarity.** The background level is the median of the image's border. Pixels that differ
//!    from it by more than the border's noise count as ink; when they are mostly darker than the
//!    background (dark ink on paper), the image is inverted.
//! 3. **Contrast.** The background maps to 0 and the ink's level (the 99th percentile of the ink
//!    pixels) to 255; what is left within the background's noise becomes 0.
//! 4. **Crop** to the ink's bounding box, ignoring specks (groups of ink pixels smaller than
//!    [`SPECK_FRACTION`] of the largest). A picture without ink is [`ImageProblem::NoInk`].
//! 5. **Scale** the longer side to [`BOX`] pixels keeping the aspect ratio (Lanczos3, which
//!    averages over the source pixels when shrinking), then stretch the brightest pixel to 255.
//! 6. **Centre** by mass: the result goes into a black 28x28 canvas shifted (rounded to whole
//!    pixels) so that the ink's centre of mass is at (14, 14); anything pushed outside is clipped.
//!
//! Decoding is bounded: the header's size is checked against [`MAX_SIDE`] and [`MAX_PIXELS`]
//! before anything is decoded, and the decoder runs under [`limits`], so a small file claiming a
//! huge image gives [`ImageProblem::TooLarge`] instead of an allocation.

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, ImageError, ImageFormat, ImageReader, Limits};

use crate::data::PIXELS;

/// Side of the network's input.
pub const SIDE: usize = 28;
/// The longer side of the ink's bounding box after scaling, as in MNIST.
pub const BOX: u32 = 20;
/// Largest width or height accepted.
pub const MAX_SIDE: u32 = 16_384;
/// Largest number of pixels accepted (a 64-megapixel photograph).
pub const MAX_PIXELS: u64 = 64 << 20;
/// Most bytes the decoder may allocate, and the largest file read.
pub const MAX_ALLOC: u64 = 256 << 20;
/// Pictures larger than this on their longer side are shrunk to it before the ink is found.
pub const WORK_SIDE: u32 = 1024;
/// Groups of ink pixels smaller than this fraction of the largest group are dropped as specks.
pub const SPECK_FRACTION: f64 = 0.05;
/// Smallest difference between background and ink, in grey levels, that counts as a digit.
pub const MIN_CONTRAST: u8 = 32;

/// Why a picture could not be turned into a digit.
#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    /// Reading the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file was read but its picture is unusable.
    #[error("{path}: {problem}")]
    Image {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        problem: ImageProblem,
    },
}

/// What is wrong with a picture.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageProblem {
    /// The file is larger than [`MAX_ALLOC`] bytes.
    #[error("file larger than {MAX_ALLOC} bytes")]
    FileTooLarge,
    /// Neither PNG nor JPEG.
    #[error("not a PNG or JPEG image")]
    UnsupportedFormat,
    /// The image is larger than [`MAX_SIDE`], [`MAX_PIXELS`] or the decoder's [`limits`].
    #[error(
        "{width}x{height} pixels is too large (at most {MAX_SIDE} per side, {MAX_PIXELS} pixels, \
         {MAX_ALLOC} bytes decoded)"
    )]
    TooLarge {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
    },
    /// The decoder rejected the data.
    #[error("cannot decode: {0}")]
    Decode(#[source] ImageError),
    /// Nothing stands out from the background.
    #[error("no ink: nothing differs from the background by {MIN_CONTRAST} grey levels or more")]
    NoInk,
}

/// The decoder limits: [`MAX_SIDE`] per side and [`MAX_ALLOC`] bytes.
pub fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(MAX_ALLOC);
    l
}

/// Reads a PNG or JPEG file and returns the 28x28 digit the network should see: row-major,
/// 0 = background, 255 = ink (the int8 model's input as is; `lenet_core::pixels_to_f32` for f32).
///
/// # Errors
/// [`PreprocessError`] naming the file: I/O failures, a file over [`MAX_ALLOC`] bytes, and every
/// [`ImageProblem`] of [`digit_from_bytes`].
pub fn load_digit(path: &Path) -> Result<[u8; PIXELS], PreprocessError> {
    let io_err = |source| PreprocessError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    File::open(path)
        .map_err(io_err)?
        .take(MAX_ALLOC + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    let result = if bytes.len() as u64 > MAX_ALLOC {
        Err(ImageProblem::FileTooLarge)
    } else {
        digit_from_bytes(&bytes)
    };
    result.map_err(|problem| PreprocessError::Image {
        path: path.to_path_buf(),
        problem,
    })
}

/// [`load_digit`] on the bytes of a PNG or JPEG file.
///
/// # Errors
/// [`ImageProblem::UnsupportedFormat`], [`ImageProblem::TooLarge`] (decided from the header,
/// before decoding), [`ImageProblem::Decode`] and [`ImageProblem::NoInk`].
pub fn digit_from_bytes(bytes: &[u8]) -> Result<[u8; PIXELS], ImageProblem> {
    digit_from_image(&decode(bytes)?)
}

/// Decodes a PNG or JPEG under [`limits`], checking the header's size first.
///
/// # Errors
/// As [`digit_from_bytes`], except [`ImageProblem::NoInk`].
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, ImageProblem> {
    let reader = |limits: Limits| -> Result<ImageReader<Cursor<&[u8]>>, ImageProblem> {
        let mut r = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| ImageProblem::Decode(ImageError::IoError(e)))?;
        if !matches!(r.format(), Some(ImageFormat::Png | ImageFormat::Jpeg)) {
            return Err(ImageProblem::UnsupportedFormat);
        }
        r.limits(limits);
        Ok(r)
    };
    // Reading the header allocates nothing in proportion to the size it claims; the side limits
    // are lifted for this read only so that the error can name the size.
    let mut header_limits = limits();
    header_limits.max_image_width = None;
    header_limits.max_image_height = None;
    let (width, height) = reader(header_limits)?
        .into_dimensions()
        .map_err(ImageProblem::Decode)?;
    let too_large = ImageProblem::TooLarge { width, height };
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(too_large);
    }
    reader(limits())?.decode().map_err(|e| match e {
        ImageError::Limits(_) => too_large,
        e => ImageProblem::Decode(e),
    })
}

/// The MNIST-style 28x28 digit of a decoded picture (steps 1 to 6 of the module docs).
///
/// # Errors
/// [`ImageProblem::NoInk`] when nothing stands out from the background by at least
/// [`MIN_CONTRAST`] grey levels.
pub fn digit_from_image(img: &DynamicImage) -> Result<[u8; PIXELS], ImageProblem> {
    let mut grey = to_grey(img);
    let (w, h) = grey.dimensions();
    if w.max(h) > WORK_SIDE {
        let (nw, nh) = if w >= h {
            (WORK_SIDE, scaled_to(h, w, WORK_SIDE))
        } else {
            (scaled_to(w, h, WORK_SIDE), WORK_SIDE)
        };
        grey = imageops::resize(&grey, nw, nh, FilterType::Triangle);
    }
    let mut ink = ink_map(&grey)?;
    despeckle(&mut ink);
    let (x0, y0, x1, y1) = bounding_box(&ink).ok_or(ImageProblem::NoInk)?;
    let crop = imageops::crop_imm(&ink, x0, y0, x1 - x0, y1 - y0).to_image();
    let (w, h) = crop.dimensions();
    let (nw, nh) = if w >= h {
        (BOX, scaled(h, w))
    } else {
        (scaled(w, h), BOX)
    };
    let mut small = imageops::resize(&crop, nw, nh, FilterType::Lanczos3);
    let peak = small.pixels().map(|p| p.0[0]).max().unwrap_or(0);
    if peak == 0 {
        return Err(ImageProblem::NoInk);
    }
    for p in small.pixels_mut() {
        p.0[0] = (u32::from(p.0[0]) * 255 / u32::from(peak)) as u8;
    }
    Ok(centre(&small))
}

/// `side * BOX / longer`, rounded, at least 1.
fn scaled(side: u32, longer: u32) -> u32 {
    scaled_to(side, longer, BOX)
}

/// `side * target / longer`, rounded, at least 1.
fn scaled_to(side: u32, longer: u32, target: u32) -> u32 {
    ((u64::from(side) * u64::from(target) + u64::from(longer) / 2) / u64::from(longer)).max(1)
        as u32
}

/// Removes specks: 8-connected groups of ink pixels with fewer than [`SPECK_FRACTION`] of the
/// largest group's pixels (sensor noise, dust, JPEG debris), so they cannot widen the crop.
fn despeckle(ink: &mut GrayImage) {
    let (w, h) = (ink.width() as usize, ink.height() as usize);
    let mut label = vec![0u32; w * h];
    let mut sizes = vec![0usize];
    let mut stack = Vec::new();
    let buf = ink.as_raw();
    for start in 0..w * h {
        if buf[start] == 0 || label[start] != 0 {
            continue;
        }
        let id = sizes.len() as u32;
        let mut size = 0;
        label[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            size += 1;
            let (x, y) = (i % w, i / w);
            for ny in y.saturating_sub(1)..(y + 2).min(h) {
                for nx in x.saturating_sub(1)..(x + 2).min(w) {
                    let j = ny * w + nx;
                    if buf[j] != 0 && label[j] == 0 {
                        label[j] = id;
                        stack.push(j);
                    }
                }
            }
        }
        sizes.push(size);
    }
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let keep: Vec<bool> = sizes
        .iter()
        .map(|&n| n as f64 >= largest as f64 * SPECK_FRACTION)
        .collect();
    for (p, &l) in ink.iter_mut().zip(&label) {
        if l != 0 && !keep[l as usize] {
            *p = 0;
        }
    }
}

/// Luma of `img`. With transparency, pixels are composited onto black when the opaque pixels are
/// light on average and onto white when they are dark, so the strokes of a drawing on a
/// transparent layer stay distinct from the background.
pub fn to_grey(img: &DynamicImage) -> GrayImage {
    if !img.color().has_alpha() {
        return img.to_luma8();
    }
    let la = img.to_luma_alpha8();
    let (sum, weight) = la.pixels().fold((0u64, 0u64), |(s, w), p| {
        let [l, a] = p.0;
        (s + u64::from(l) * u64::from(a), w + u64::from(a))
    });
    let under: u32 = if weight > 0 && sum / weight >= 128 {
        0
    } else {
        255
    };
    GrayImage::from_fn(la.width(), la.height(), |x, y| {
        let [l, a] = la.get_pixel(x, y).0;
        let (l, a) = (u32::from(l), u32::from(a));
        image::Luma([((l * a + under * (255 - a) + 127) / 255) as u8])
    })
}

/// Steps 2 and 3: the ink as light on black, stretched to 0..=255, background noise set to 0.
fn ink_map(grey: &GrayImage) -> Result<GrayImage, ImageProblem> {
    let (w, h) = grey.dimensions();
    if w == 0 || h == 0 {
        return Err(ImageProblem::NoInk);
    }
    // Background: median of a border ring about 2% of the shorter side thick.
    let ring = (w.min(h) / 50).max(1);
    let mut border = [0u64; 256];
    for (x, y, p) in grey.enumerate_pixels() {
        if x < ring || y < ring || x >= w - ring || y >= h - ring {
            border[usize::from(p.0[0])] += 1;
        }
    }
    let bg = percentile(&border, 0.5);
    // Noise: how far the border's pixels stray from the median (95th percentile of |v - bg|).
    let mut spread = [0u64; 256];
    for (v, &n) in border.iter().enumerate() {
        spread[(v as i32 - i32::from(bg)).unsigned_abs() as usize] += n;
    }
    let noise = i32::from(percentile(&spread, 0.95).max(8));
    let bg = i32::from(bg);
    // Polarity: the side of the background with more ink mass beyond the noise.
    let (mut up, mut down) = (0u64, 0u64);
    for p in grey.pixels() {
        let d = i32::from(p.0[0]) - bg;
        if d > noise {
            up += (d - noise) as u64;
        } else if d < -noise {
            down += (-d - noise) as u64;
        }
    }
    let invert = down > up;
    let level = |v: u8| -> i32 {
        let d = i32::from(v) - bg;
        if invert { -d } else { d }
    };
    // Ink level: 99th percentile of the pixels beyond the noise, on the ink's side.
    let mut ink = [0u64; 256];
    for p in grey.pixels() {
        let d = level(p.0[0]);
        if d > noise {
            ink[d as usize] += 1;
        }
    }
    if ink.iter().all(|&n| n == 0) {
        return Err(ImageProblem::NoInk);
    }
    let top = i32::from(percentile(&ink, 0.99));
    if top < i32::from(MIN_CONTRAST) {
        return Err(ImageProblem::NoInk);
    }
    Ok(GrayImage::from_fn(w, h, |x, y| {
        let d = level(grey.get_pixel(x, y).0[0]);
        let v = if d <= noise {
            0
        } else {
            (d * 255 / top).min(255)
        };
        image::Luma([v as u8])
    }))
}

/// The value below which `fraction` of a 256-bin histogram's mass lies.
fn percentile(hist: &[u64; 256], fraction: f64) -> u8 {
    let total: u64 = hist.iter().sum();
    let target = (total as f64 * fraction).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (v, &n) in hist.iter().enumerate() {
        seen += n;
        if seen >= target {
            return v as u8;
        }
    }
    255
}

/// `(x0, y0, x1, y1)`, exclusive ends, of the non-zero pixels; `None` when all are zero.
fn bounding_box(img: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in img.enumerate_pixels() {
        if p.0[0] > 0 {
            b = Some(match b {
                None => (x, y, x + 1, y + 1),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)),
            });
        }
    }
    b
}

/// Centre of mass `(x, y)` of a 28x28 digit in pixel indices (pixel `i` has coordinate `i`);
/// `None` for a blank image.
pub fn centre_of_mass(pixels: &[u8; PIXELS]) -> Option<(f64, f64)> {
    let (mut m, mut mx, mut my) = (0.0, 0.0, 0.0);
    for (i, &v) in pixels.iter().enumerate() {
        let v = f64::from(v);
        m += v;
        mx += v * (i % SIDE) as f64;
        my += v * (i / SIDE) as f64;
    }
    (m > 0.0).then(|| (mx / m, my / m))
}

/// Step 6: `patch` in a black 28x28 canvas with its centre of mass moved to (14, 14).
fn centre(patch: &GrayImage) -> [u8; PIXELS] {
    let (mut m, mut mx, mut my) = (0.0, 0.0, 0.0);
    for (x, y, p) in patch.enumerate_pixels() {
        let v = f64::from(p.0[0]);
        m += v;
        mx += v * f64::from(x);
        my += v * f64::from(y);
    }
    let half = (SIDE / 2) as f64;
    let (dx, dy) = if m > 0.0 {
        (
            (half - mx / m).round() as i64,
            (half - my / m).round() as i64,
        )
    } else {
        (0, 0)
    };
    let mut out = [0u8; PIXELS];
    for (x, y, p) in patch.enumerate_pixels() {
        let (cx, cy) = (i64::from(x) + dx, i64::from(y) + dy);
        if (0..SIDE as i64).contains(&cx) && (0..SIDE as i64).contains(&cy) {
            out[cy as usize * SIDE + cx as usize] = p.0[0];
        }
    }
    out
}

#[cfg(test)]
mod tests;
