//! Pictures for people: digits in the terminal and a labelled montage PNG.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use image::{Rgb, RgbImage};
use plotters::prelude::*;
use plotters::style::FontStyle;

/// The font used for labels (DejaVu Sans Mono Bold, see `assets/DejaVu-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSansMono-Bold.ttf");
/// Family name the font is registered under.
pub const FONT_FAMILY: &str = "lenet-mono";

/// Registers the embedded font with plotters (idempotent).
pub fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The font is a valid TTF shipped with the crate; failure would be a build defect.
        let _ = plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT);
        let _ = plotters::style::register_font(FONT_FAMILY, FontStyle::Bold, FONT);
    });
}

/// A 28x28 digit as text, two characters per pixel, darker ink = denser glyph.
pub fn ascii(pixels: &[u8; 784]) -> String {
    const SHADES: &[u8] = b" .:-=+*#%@";
    let mut s = String::with_capacity(29 * 57);
    for row in pixels.chunks_exact(28) {
        for &p in row {
            let c = SHADES[usize::from(p) * (SHADES.len() - 1) / 255] as char;
            s.push(c);
            s.push(c);
        }
        s.push('\n');
    }
    s
}

/// One montage cell.
#[derive(Debug, Clone, Copy)]
pub struct Cell<'a> {
    /// The digit's pixels.
    pub pixels: &'a [u8; 784],
    /// What the network said.
    pub predicted: u8,
    /// The label.
    pub actual: u8,
}

const SCALE: u32 = 4;
const DIGIT: u32 = 28 * SCALE;
const LABEL: u32 = 26;
const PADDING: u32 = 6;

/// Renders `cells` as a grid of `cols` columns: each digit enlarged 4x with "pred/true" under it,
/// green when right, red (with a red frame) when wrong. Returns the image.
///
/// # Errors
/// If drawing fails.
pub fn montage_image(cells: &[Cell<'_>], cols: usize) -> Result<RgbImage> {
    register_font();
    let cols = cols.clamp(1, cells.len().max(1)) as u32;
    let rows = (cells.len() as u32).div_ceil(cols).max(1);
    let (cw, ch) = (DIGIT + 2 * PADDING, DIGIT + LABEL + 2 * PADDING);
    let (w, h) = (cols * cw, rows * ch);
    let mut img = RgbImage::from_pixel(w, h, Rgb([24, 24, 28]));
    for (i, cell) in cells.iter().enumerate() {
        let (x0, y0) = (
            (i as u32 % cols) * cw + PADDING,
            (i as u32 / cols) * ch + PADDING,
        );
        for y in 0..DIGIT {
            for x in 0..DIGIT {
                let p = cell.pixels[((y / SCALE) * 28 + x / SCALE) as usize];
                img.put_pixel(x0 + x, y0 + y, Rgb([p, p, p]));
            }
        }
    }
    {
        let buf = img.as_mut();
        let root = BitMapBackend::with_buffer(buf, (w, h)).into_drawing_area();
        for (i, cell) in cells.iter().enumerate() {
            let (x0, y0) = (
                (i as u32 % cols) * cw + PADDING,
                (i as u32 / cols) * ch + PADDING,
            );
            let ok = cell.predicted == cell.actual;
            let colour = if ok {
                RGBColor(80, 220, 100)
            } else {
                RGBColor(255, 70, 70)
            };
            if !ok {
                let r = Rectangle::new(
                    [
                        (x0 as i32 - 3, y0 as i32 - 3),
                        ((x0 + DIGIT) as i32 + 2, (y0 + DIGIT) as i32 + 2),
                    ],
                    colour.stroke_width(3),
                );
                root.draw(&r).map_err(|e| anyhow!("drawing: {e}"))?;
            }
            let label = format!("pred {} / true {}", cell.predicted, cell.actual);
            let style = TextStyle::from((FONT_FAMILY, 13).into_font()).color(&colour);
            root.draw_text(&label, &style, (x0 as i32 + 2, (y0 + DIGIT) as i32 + 6))
                .map_err(|e| anyhow!("drawing text: {e}"))?;
        }
        root.present().map_err(|e| anyhow!("drawing: {e}"))?;
    }
    Ok(img)
}

/// Encodes `img` as PNG and writes it atomically.
///
/// # Errors
/// Encoding or I/O failures.
pub fn save_png(img: &RgbImage, path: &Path) -> Result<()> {
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .context("encoding PNG")?;
    crate::io::write_atomic(path, &bytes).with_context(|| format!("writing {}", path.display()))
}
