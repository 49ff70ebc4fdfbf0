//! Turning a picture of a handwritten digit (PNG or JPEG, or raw RGBA pixels from a canvas; any
//! size, either polarity) into the 28x28 input the network was trained on, the way MNIST itself
//! was made. One implementation for every front end: `host predict --image` runs it natively and
//! the browser page (`web/`) runs the same code compiled to WebAssembly.
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
//! huge image gives [`ImageProblem::TooLarge`] instead of an allocation. Raw pixels
//! ([`digit_from_rgba`]) are checked against the same limits and against their buffer's length.
//!
//! Features `png` and `jpeg` (both default) compile in the decoders. Without them the crate keeps
//! everything that works on pixels; the browser page builds it that way and lets the browser
//! decode a file into the RGBA pixels it passes to [`digit_from_rgba`].
//!
//! ```
//! // A white canvas with a dark vertical bar: a "1".
//! let (w, h) = (60u32, 80u32);
//! let mut rgba = vec![255u8; (w * h * 4) as usize];
//! for y in 10..70 {
//!     for x in 27..33 {
//!         let i = ((y * w + x) * 4) as usize;
//!         rgba[i..i + 3].fill(0);
//!     }
//! }
//! let digit = lenet_preprocess::digit_from_rgba(w, h, &rgba)?;
//! assert_eq!(digit.len(), 28 * 28);
//! assert_eq!(digit[14 * 28 + 14], 255); // the bar, light on black, through the centre
//! assert_eq!(digit[0], 0);
//! # Ok::<(), lenet_preprocess::ImageProblem>(())
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::io::Cursor;

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, ImageError, ImageFormat, ImageReader, Limits, RgbaImage};

/// Side of the network's input.
pub const SIDE: usize = 28;
/// Pixels of the network's input (row-major, 0 = background, 255 = ink).
pub const PIXELS: usize = SIDE * SIDE;
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

/// What is wrong with a picture.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageProblem {
    /// The file is larger than [`MAX_ALLOC`] bytes.
    #[error("file larger than {MAX_ALLOC} bytes")]
    FileTooLarge,
    /// Raw pixels whose buffer does not hold `width * height` RGBA pixels.
    #[error("{len} bytes are not {width}x{height} RGBA pixels")]
    PixelBufferSize {
        /// Width claimed.
        width: u32,
        /// Height claimed.
        height: u32,
        /// Length of the buffer, in bytes.
        len: usize,
    },
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

/// The 28x28 digit the network should see in the bytes of a PNG or JPEG file: row-major,
/// 0 = background, 255 = ink (the int8 model's input as is; `lenet_core::pixels_to_f32` for f32).
///
/// # Errors
/// [`ImageProblem::UnsupportedFormat`], [`ImageProblem::TooLarge`] (decided from the header,
/// before decoding), [`ImageProblem::Decode`] and [`ImageProblem::NoInk`].
pub fn digit_from_bytes(bytes: &[u8]) -> Result<[u8; PIXELS], ImageProblem> {
    digit_from_image(&decode(bytes)?)
}

/// The 28x28 digit of raw RGBA pixels (row-major, 4 bytes a pixel, straight alpha: what a
/// browser canvas's `getImageData` gives), by the same steps as a decoded file.
///
/// # Errors
/// [`ImageProblem::PixelBufferSize`] when `rgba` is not `width * height * 4` bytes,
/// [`ImageProblem::TooLarge`] beyond [`MAX_SIDE`] or [`MAX_PIXELS`], and
/// [`ImageProblem::NoInk`].
pub fn digit_from_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<[u8; PIXELS], ImageProblem> {
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageProblem::TooLarge { width, height });
    }
    let size_error = ImageProblem::PixelBufferSize {
        width,
        height,
        len: rgba.len(),
    };
    if (rgba.len() as u64) != u64::from(width) * u64::from(height) * 4 {
        return Err(size_error);
    }
    let img = RgbaImage::from_raw(width, height, rgba.to_vec()).ok_or(size_error)?;
    digit_from_image(&DynamicImage::ImageRgba8(img))
}

/// Decodes a PNG or JPEG under [`limits`], checking the header's size first. Only the formats
/// whose features (`png`, `jpeg`; both by default) are on are decoded; others are
/// [`ImageProblem::UnsupportedFormat`].
///
/// # Errors
/// As [`digit_from_bytes`], except [`ImageProblem::NoInk`].
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, ImageProblem> {
    let reader = |limits: Limits| -> Result<ImageReader<Cursor<&[u8]>>, ImageProblem> {
        let mut r = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| ImageProblem::Decode(ImageError::IoError(e)))?;
        let format = r.format();
        let compiled_in = (cfg!(feature = "png") && format == Some(ImageFormat::Png))
            || (cfg!(feature = "jpeg") && format == Some(ImageFormat::Jpeg));
        if !compiled_in {
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

#[cfg(all(test, feature = "png", feature = "jpeg"))]
mod tests;
