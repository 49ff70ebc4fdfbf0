//! The draw-a-digit page's WebAssembly module: lenet-core's networks and the host's
//! preprocessing (`lenet-preprocess`), exported to JavaScript with wasm-bindgen.
//!
//! Nothing here re-implements the model or the picture steps. A canvas's RGBA pixels, and a
//! picture file once the browser has decoded it, go through
//! [`lenet_preprocess::digit_from_rgba`]: the steps behind `host predict --image`
//! ([`lenet_preprocess::digit_from_image`]) without the file decoders, which would triple the
//! module's size for formats the browser decodes anyway. The 28x28 result goes to [`lenet_core::I8Model::predict`] or [`lenet_core::F32Model::predict`], the
//! portable kernels the microcontrollers run. The blob is parsed by [`lenet_core::Model::parse`]
//! with all of its checks, so a damaged or foreign file is refused with a [`BlobError`] message.
//!
//! [`Engine`] is the plain-Rust core (tested natively); [`Demo`] and [`Answer`] are its thin
//! JavaScript face, built by `web/build.sh` into `web/pkg/`, which `web/www/app.js` loads.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

use lenet_core::shape::{CLASSES, IN_LEN};
use lenet_core::{BlobError, Model, ScratchF32, ScratchI8, pixels_to_f32};
use lenet_preprocess::{ImageProblem, PIXELS};
use wasm_bindgen::prelude::*;

const _: () = assert!(PIXELS == IN_LEN);

self_cell::self_cell!(
    /// A blob copied into 4-byte aligned storage, and the model parsed from it in place.
    struct Loaded {
        owner: Box<[u32]>,
        #[covariant]
        dependent: Model,
    }
);

/// Which of the blob's networks to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// The integer-only int8 network.
    Int8,
    /// The float network.
    F32,
}

/// Why a digit could not be classified.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClassifyError {
    /// The picture could not be turned into a 28x28 digit.
    Picture(ImageProblem),
    /// The blob carries no network of the requested precision.
    NoNetwork(Precision),
    /// A 28x28 input that is not 784 bytes.
    InputLength(usize),
}

impl core::fmt::Display for ClassifyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Picture(p) => write!(f, "{p}"),
            Self::NoNetwork(Precision::Int8) => f.write_str("this model has no int8 network"),
            Self::NoNetwork(Precision::F32) => f.write_str("this model has no f32 network"),
            Self::InputLength(n) => write!(f, "a 28x28 input is {IN_LEN} bytes, not {n}"),
        }
    }
}

impl std::error::Error for ClassifyError {}

/// One classification, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// The predicted digit.
    pub digit: u8,
    /// Softmax probabilities of the ten digits (of the dequantized logits for int8, as
    /// `host predict` computes them).
    pub probabilities: [f32; CLASSES],
    /// The raw int8 logits, for the int8 network.
    pub logits_i8: Option<[i8; CLASSES]>,
    /// The 28x28 input the network saw (row-major, 0 = background, 255 = ink).
    pub pixels: [u8; PIXELS],
}

/// A parsed model with its scratch buffers: everything one classification needs, allocated once.
pub struct Engine {
    loaded: Loaded,
    scratch_i8: Box<ScratchI8>,
    scratch_f32: Box<ScratchF32>,
}

impl Engine {
    /// Copies `blob` into aligned storage and parses it with [`Model::parse`].
    ///
    /// # Errors
    /// The [`BlobError`] of a blob that fails any of lenet-core's checks.
    pub fn new(blob: &[u8]) -> Result<Self, BlobError> {
        let mut words = vec![0u32; blob.len().div_ceil(4)].into_boxed_slice();
        bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..blob.len()].copy_from_slice(blob);
        let loaded = Loaded::try_new(words, |words| {
            Model::parse(&bytemuck::cast_slice::<u32, u8>(words)[..blob.len()])
        })?;
        Ok(Self {
            loaded,
            scratch_i8: Box::default(),
            scratch_f32: Box::default(),
        })
    }

    /// Whether the blob carries the int8 network.
    pub fn has_int8(&self) -> bool {
        self.loaded.borrow_dependent().int8().is_some()
    }

    /// Whether the blob carries the f32 network.
    pub fn has_f32(&self) -> bool {
        self.loaded.borrow_dependent().f32().is_some()
    }

    /// Classifies a 28x28 input (row-major, 0 = background, 255 = ink).
    ///
    /// # Errors
    /// [`ClassifyError::NoNetwork`] when the blob lacks `precision`.
    pub fn classify(
        &mut self,
        pixels: &[u8; PIXELS],
        precision: Precision,
    ) -> Result<Classification, ClassifyError> {
        let model = self.loaded.borrow_dependent();
        let no_network = ClassifyError::NoNetwork(precision);
        let (digit, logits, logits_i8) = match precision {
            Precision::Int8 => {
                let q = model.int8().ok_or(no_network)?;
                let p = q.predict(pixels, &mut self.scratch_i8);
                let (s, zp) = (q.scales()[4], q.zero_points[4]);
                let real = p.logits.map(|v| s * (i32::from(v) - zp) as f32);
                (p.digit, real, Some(p.logits))
            }
            Precision::F32 => {
                let f = model.f32().ok_or(no_network)?;
                let p = f.predict(&pixels_to_f32(pixels), &mut self.scratch_f32);
                (p.digit, p.logits, None)
            }
        };
        Ok(Classification {
            digit,
            probabilities: softmax(logits),
            logits_i8,
            pixels: *pixels,
        })
    }

    /// Preprocesses a canvas's RGBA pixels ([`lenet_preprocess::digit_from_rgba`]) and
    /// classifies the result.
    ///
    /// # Errors
    /// [`ClassifyError::Picture`] for a buffer of the wrong size or one without ink, and as
    /// [`Engine::classify`].
    pub fn classify_rgba(
        &mut self,
        width: u32,
        height: u32,
        rgba: &[u8],
        precision: Precision,
    ) -> Result<Classification, ClassifyError> {
        let pixels = lenet_preprocess::digit_from_rgba(width, height, rgba)
            .map_err(ClassifyError::Picture)?;
        self.classify(&pixels, precision)
    }
}

/// Softmax of `l`, shifted by its maximum (as `host predict`).
fn softmax(l: [f32; CLASSES]) -> [f32; CLASSES] {
    let m = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let e = l.map(|v| (v - m).exp());
    let s: f32 = e.iter().sum();
    e.map(|v| v / s)
}

/// A model loaded in the page (JavaScript: `new Demo(bytes)`).
#[wasm_bindgen]
pub struct Demo {
    engine: Engine,
}

/// One answer shown on the page.
#[wasm_bindgen]
pub struct Answer {
    inner: Classification,
}

fn precision(f32: bool) -> Precision {
    if f32 { Precision::F32 } else { Precision::Int8 }
}

fn js_error(e: impl core::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

#[wasm_bindgen]
impl Demo {
    /// Parses a blob (a copy of `blob` is kept).
    ///
    /// # Errors
    /// The blob's [`BlobError`], as a message.
    #[wasm_bindgen(constructor)]
    pub fn new(blob: &[u8]) -> Result<Demo, JsError> {
        Engine::new(blob)
            .map(|engine| Demo { engine })
            .map_err(|e| JsError::new(&format!("not a usable LeNet blob: {e}")))
    }

    /// Whether the blob carries the int8 network.
    #[wasm_bindgen(js_name = hasInt8)]
    pub fn has_int8(&self) -> bool {
        self.engine.has_int8()
    }

    /// Whether the blob carries the f32 network.
    #[wasm_bindgen(js_name = hasF32)]
    pub fn has_f32(&self) -> bool {
        self.engine.has_f32()
    }

    /// Classifies a canvas's RGBA pixels (`getImageData(...).data`); `f32` picks the float
    /// network.
    ///
    /// # Errors
    /// As [`Engine::classify_rgba`], as a message.
    #[wasm_bindgen(js_name = classifyCanvas)]
    pub fn classify_canvas(
        &mut self,
        width: u32,
        height: u32,
        rgba: &[u8],
        f32: bool,
    ) -> Result<Answer, JsError> {
        self.engine
            .classify_rgba(width, height, rgba, precision(f32))
            .map(|inner| Answer { inner })
            .map_err(js_error)
    }

    /// Classifies a 28x28 input as is (784 bytes, row-major, 0 = background, 255 = ink).
    ///
    /// # Errors
    /// [`ClassifyError::InputLength`] for another length, and as [`Engine::classify`].
    #[wasm_bindgen(js_name = classifyPixels)]
    pub fn classify_pixels(&mut self, pixels: &[u8], f32: bool) -> Result<Answer, JsError> {
        let pixels = <&[u8; PIXELS]>::try_from(pixels)
            .map_err(|_| js_error(ClassifyError::InputLength(pixels.len())))?;
        self.engine
            .classify(pixels, precision(f32))
            .map(|inner| Answer { inner })
            .map_err(js_error)
    }
}

#[wasm_bindgen]
impl Answer {
    /// The predicted digit.
    #[wasm_bindgen(getter)]
    pub fn digit(&self) -> u8 {
        self.inner.digit
    }

    /// The ten probabilities.
    pub fn probabilities(&self) -> Vec<f32> {
        self.inner.probabilities.to_vec()
    }

    /// The raw int8 logits (empty for the f32 network).
    #[wasm_bindgen(js_name = logitsI8)]
    pub fn logits_i8(&self) -> Vec<i8> {
        self.inner.logits_i8.map(|l| l.to_vec()).unwrap_or_default()
    }

    /// The 28x28 input the network saw.
    pub fn pixels(&self) -> Vec<u8> {
        self.inner.pixels.to_vec()
    }
}

#[cfg(test)]
mod tests;
