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

/// Draws the training curve: mean training loss (left axis) and train/test accuracy in percent
/// (right axis) per epoch.
///
/// # Errors
/// If drawing or writing fails.
#[cfg(feature = "train")]
pub fn training_curve(history: &[crate::train::EpochStats], path: &Path) -> Result<()> {
    register_font();
    let (w, h) = (900u32, 520u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    {
        let buf = img.as_mut();
        let root = BitMapBackend::with_buffer(buf, (w, h)).into_drawing_area();
        let n = history.len().max(1) as f64;
        let max_loss = history
            .iter()
            .map(|s| s.train_loss)
            .fold(0.0f64, f64::max)
            .max(1e-3)
            * 1.05;
        let min_acc = history
            .iter()
            .flat_map(|s| [s.train_acc, s.test_acc])
            .fold(1.0f64, f64::min)
            .min(0.98)
            * 100.0;
        let font = |size| (FONT_FAMILY, size).into_font();
        let mut chart = ChartBuilder::on(&root)
            .caption("LeNet on MNIST: training curve", font(22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .right_y_label_area_size(60)
            .build_cartesian_2d(0.5f64..n + 0.5, 0.0f64..max_loss)
            .map_err(|e| anyhow!("chart: {e}"))?
            .set_secondary_coord(0.5f64..n + 0.5, (min_acc - 0.2).max(0.0)..100.0f64);
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("training loss")
            .label_style(font(14))
            .axis_desc_style(font(15))
            .draw()
            .map_err(|e| anyhow!("chart: {e}"))?;
        chart
            .configure_secondary_axes()
            .y_desc("accuracy (%)")
            .label_style(font(14))
            .axis_desc_style(font(15))
            .draw()
            .map_err(|e| anyhow!("chart: {e}"))?;
        let blue = RGBColor(40, 90, 200);
        let orange = RGBColor(230, 120, 20);
        let green = RGBColor(30, 150, 60);
        chart
            .draw_series(LineSeries::new(
                history.iter().map(|s| (s.epoch as f64, s.train_loss)),
                blue.stroke_width(2),
            ))
            .map_err(|e| anyhow!("chart: {e}"))?
            .label("train loss")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], blue.stroke_width(2))
            });
        chart
            .draw_secondary_series(LineSeries::new(
                history
                    .iter()
                    .map(|s| (s.epoch as f64, s.train_acc * 100.0)),
                orange.stroke_width(2),
            ))
            .map_err(|e| anyhow!("chart: {e}"))?
            .label("train accuracy")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], orange.stroke_width(2))
            });
        chart
            .draw_secondary_series(LineSeries::new(
                history.iter().map(|s| (s.epoch as f64, s.test_acc * 100.0)),
                green.stroke_width(2),
            ))
            .map_err(|e| anyhow!("chart: {e}"))?
            .label("test accuracy")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], green.stroke_width(2))
            });
        chart
            .configure_series_labels()
            .label_font(font(14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::MiddleRight)
            .draw()
            .map_err(|e| anyhow!("chart: {e}"))?;
        root.present().map_err(|e| anyhow!("drawing: {e}"))?;
    }
    save_png(&img, path)
}

/// Draws a confusion matrix as a heat map (rows: actual, columns: predicted) with the counts.
///
/// # Errors
/// If drawing or writing fails.
pub fn confusion_matrix(report: &crate::eval::Report, title: &str, path: &Path) -> Result<()> {
    register_font();
    let cell = 52u32;
    let (left, top) = (70u32, 80u32);
    let (w, h) = (left + 10 * cell + 20, top + 10 * cell + 50);
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    {
        let buf = img.as_mut();
        let root = BitMapBackend::with_buffer(buf, (w, h)).into_drawing_area();
        let font = |size| (FONT_FAMILY, size).into_font();
        let err = |e| anyhow!("drawing: {e:?}");
        root.draw_text(title, &TextStyle::from(font(18)).color(&BLACK), (10, 10))
            .map_err(err)?;
        root.draw_text(
            "predicted",
            &TextStyle::from(font(15)).color(&BLACK),
            ((left + 4 * cell) as i32, 38),
        )
        .map_err(err)?;
        root.draw_text(
            "actual",
            &TextStyle::from(font(15)).color(&BLACK),
            (6, (top + 10 * cell + 18) as i32),
        )
        .map_err(err)?;
        let row_max: Vec<u32> = report
            .confusion
            .iter()
            .map(|r| r.iter().sum::<u32>().max(1))
            .collect();
        for (a, &row_total) in row_max.iter().enumerate() {
            let y = (top + a as u32 * cell) as i32;
            root.draw_text(
                &a.to_string(),
                &TextStyle::from(font(16)).color(&BLACK),
                (left as i32 - 24, y + 16),
            )
            .map_err(err)?;
            for p in 0..10 {
                let x = (left + p as u32 * cell) as i32;
                if a == 0 {
                    root.draw_text(
                        &p.to_string(),
                        &TextStyle::from(font(16)).color(&BLACK),
                        (x + 20, top as i32 - 22),
                    )
                    .map_err(err)?;
                }
                let v = report.confusion[a][p];
                let frac = f64::from(v) / f64::from(row_total);
                // Diagonal in blue, errors in red, intensity by share of the row (errors boosted).
                let t = if a == p { frac } else { (frac * 20.0).min(1.0) };
                let shade = |c: u8| (255.0 - t * (255.0 - f64::from(c))) as u8;
                let colour = if a == p {
                    RGBColor(shade(40), shade(90), shade(200))
                } else {
                    RGBColor(shade(220), shade(50), shade(50))
                };
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell as i32 - 2, y + cell as i32 - 2)],
                    colour.filled(),
                ))
                .map_err(err)?;
                if v > 0 {
                    let text = if t > 0.55 { WHITE } else { BLACK };
                    let s = v.to_string();
                    let dx = (cell as i32 - 8 * s.len() as i32) / 2 - 1;
                    root.draw_text(
                        &s,
                        &TextStyle::from(font(13)).color(&text),
                        (x + dx, y + 18),
                    )
                    .map_err(err)?;
                }
            }
        }
        root.present().map_err(err)?;
    }
    save_png(&img, path)
}
