//! Typed, zero-copy views of a parsed blob and the two forward passes.

use crate::blob::{Activation, BlobError, DType, QUANT_POINTS, SectionId, Sections, i4};
use crate::kernels::act::{argmax_f32, argmax_i8};
use crate::kernels::conv::{conv2d_act_pool_f32, conv2d_relu_pool_i8};
use crate::kernels::dense::{dense_f32, dense_i4, dense_i8};
use crate::kernels::{QuantLayer, Requant};
use crate::quant::{BIAS_LIMIT, INPUT_ZERO_POINT, SHIFT_MAX, SHIFT_MIN, pixel_to_i8};
use crate::shape::{
    C1, C2, CLASSES, CONV1_W_LEN, CONV2_W_LEN, FC1, FC1_I4_LEN, FC1_W_LEN, FC2_W_LEN, FLAT, IN_C,
    IN_H, IN_LEN, IN_W, P1, POOL1_LEN,
};

/// A parsed weight blob: the activation and whichever of the f32 and int8 models it carries.
///
/// Parsing checks everything once; the forward passes that follow cannot fail.
#[derive(Debug, Clone, Copy)]
pub struct Model<'a> {
    sections: Sections<'a>,
    f32: Option<F32Model<'a>>,
    int8: Option<I8Model<'a>>,
}

/// The f32 model's parameters, borrowed from the blob.
#[derive(Debug, Clone, Copy)]
pub struct F32Model<'a> {
    /// Hidden-layer activation.
    pub activation: Activation,
    /// conv1 weights, OIHW `[20][1][5][5]`.
    pub conv1_w: &'a [f32; CONV1_W_LEN],
    /// conv1 bias `[20]`.
    pub conv1_b: &'a [f32; C1],
    /// conv2 weights, OIHW `[50][20][5][5]`.
    pub conv2_w: &'a [f32; CONV2_W_LEN],
    /// conv2 bias `[50]`.
    pub conv2_b: &'a [f32; C2],
    /// fc1 weights `[500][2450]`.
    pub fc1_w: &'a [f32; FC1_W_LEN],
    /// fc1 bias `[500]`.
    pub fc1_b: &'a [f32; FC1],
    /// fc2 weights `[10][500]`.
    pub fc2_w: &'a [f32; FC2_W_LEN],
    /// fc2 bias `[10]`.
    pub fc2_b: &'a [f32; CLASSES],
}

/// The int8 model's parameters, borrowed from the blob (ReLU only).
#[derive(Debug, Clone, Copy)]
pub struct I8Model<'a> {
    /// conv1: 1 → 20 channels.
    pub conv1: QuantLayer<'a, C1, CONV1_W_LEN>,
    /// conv2: 20 → 50 channels.
    pub conv2: QuantLayer<'a, C2, CONV2_W_LEN>,
    /// fc1: 2450 → 500, with int8 weights or (a compact blob) int4 ones.
    pub fc1: Fc1<'a>,
    /// fc2: 500 → 10 (no activation: clamp to `[-128, 127]`).
    pub fc2: QuantLayer<'a, CLASSES, FC2_W_LEN>,
    /// Scales of the input, pool1, pool2, fc1 and logits tensors (for display; never used by the
    /// integer pass).
    scales: &'a [u32; QUANT_POINTS],
    /// Zero points of the same tensors.
    pub zero_points: &'a [i32; QUANT_POINTS],
}

/// fc1's parameters: int8 weights, or int4 weights in the grouped layout of [`crate::blob::i4`]
/// (a compact blob, `fc1.weight.q` of dtype i4). Everything but the weights' storage, and the
/// arithmetic, is the same for both.
#[derive(Debug, Clone, Copy)]
pub enum Fc1<'a> {
    /// int8 weights `[500][2450]`.
    I8(QuantLayer<'a, FC1, FC1_W_LEN>),
    /// int4 weights, 500 rows of 1,228 bytes.
    I4(QuantLayer<'a, FC1, FC1_W_LEN, [u8; FC1_I4_LEN]>),
}

impl<'a> Fc1<'a> {
    /// The int8 layer, if the weights are int8.
    pub fn int8(&self) -> Option<&QuantLayer<'a, FC1, FC1_W_LEN>> {
        match self {
            Self::I8(layer) => Some(layer),
            Self::I4(_) => None,
        }
    }

    /// The int8 layer, mutably (tests edit parameters), if the weights are int8.
    pub fn int8_mut(&mut self) -> Option<&mut QuantLayer<'a, FC1, FC1_W_LEN>> {
        match self {
            Self::I8(layer) => Some(layer),
            Self::I4(_) => None,
        }
    }

    /// Requantization constants.
    pub fn requant(&self) -> &Requant<'a, FC1> {
        match self {
            Self::I8(layer) => &layer.requant,
            Self::I4(layer) => &layer.requant,
        }
    }

    /// Bias per output unit.
    pub fn bias(&self) -> &'a [i32; FC1] {
        match self {
            Self::I8(layer) => layer.bias,
            Self::I4(layer) => layer.bias,
        }
    }

    /// Zero point of the input (pool2).
    pub fn in_zp(&self) -> i32 {
        match self {
            Self::I8(layer) => layer.in_zp,
            Self::I4(layer) => layer.in_zp,
        }
    }

    /// Bits per weight: 8 or 4.
    pub fn weight_bits(&self) -> u32 {
        match self {
            Self::I8(_) => 8,
            Self::I4(_) => 4,
        }
    }
}

/// Caller-owned buffers for [`F32Model::forward`] (30,616 bytes). After a forward pass they hold
/// the pooled feature maps and the hidden layer, which the quantizer's calibration reads.
#[derive(Debug, Clone)]
pub struct ScratchF32 {
    pub(crate) pool1: [f32; POOL1_LEN],
    pub(crate) pool2: [f32; FLAT],
    pub(crate) fc1: [f32; FC1],
}

/// Caller-owned buffers for [`I8Model::forward`]: 7,654 bytes, the whole RAM the int8 pass needs
/// besides its stack.
#[derive(Debug, Clone)]
pub struct ScratchI8 {
    pub(crate) input: [i8; IN_LEN],
    pub(crate) pool1: [i8; POOL1_LEN],
    pub(crate) pool2: [i8; FLAT],
    pub(crate) fc1: [i8; FC1],
}

macro_rules! scratch_accessors {
    ($name:ident, $t:ty) => {
        impl $name {
            /// The pooled output of conv1 from the last forward pass, CHW `[20][14][14]`.
            pub fn pool1(&self) -> &[$t; POOL1_LEN] {
                &self.pool1
            }

            /// The pooled output of conv2 from the last forward pass, CHW `[50][7][7]`.
            pub fn pool2(&self) -> &[$t; FLAT] {
                &self.pool2
            }

            /// The activated output of fc1 from the last forward pass, `[500]`.
            pub fn fc1(&self) -> &[$t; FC1] {
                &self.fc1
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

impl ScratchF32 {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        Self {
            pool1: [0.0; POOL1_LEN],
            pool2: [0.0; FLAT],
            fc1: [0.0; FC1],
        }
    }
}

impl ScratchI8 {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        Self {
            input: [0; IN_LEN],
            pool1: [0; POOL1_LEN],
            pool2: [0; FLAT],
            fc1: [0; FC1],
        }
    }
}

scratch_accessors!(ScratchF32, f32);
scratch_accessors!(ScratchI8, i8);

/// A classification: the digit and the logits it was chosen from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction<T> {
    /// The predicted digit (argmax of `logits`, ties to the lowest digit).
    pub digit: u8,
    /// The raw logits.
    pub logits: [T; CLASSES],
}

fn typed<'a, T: bytemuck::Pod, const N: usize>(
    sections: &Sections<'a>,
    id: SectionId,
) -> Result<&'a [T; N], BlobError> {
    let bytes = sections
        .get(id)
        .ok_or(BlobError::MissingSection { section: id })?;
    let slice: &[T] = bytemuck::try_cast_slice(bytes).map_err(|_| BlobError::Misaligned {
        section: id,
        offset: 0,
    })?;
    <&[T; N]>::try_from(slice).map_err(|_| BlobError::LengthMismatch {
        section: id,
        expected: (N * core::mem::size_of::<T>()) as u32,
        found: bytes.len() as u32,
    })
}

fn split_requant<'a, const OC: usize>(
    sections: &Sections<'a>,
    id: SectionId,
) -> Result<Requant<'a, OC>, BlobError> {
    let (m, s) = requant_rows(sections, id)?;
    Requant::from_rows(m, s).ok_or(BlobError::LengthMismatch {
        section: id,
        expected: (2 * OC * 4) as u32,
        found: (2 * m.len() * 4) as u32,
    })
}

/// The two rows of a requantization section (multipliers, shifts: one column per channel, or one
/// for the whole layer), every value checked. Not generic, so the firmware carries it once.
#[inline(never)]
fn requant_rows<'a>(
    sections: &Sections<'a>,
    id: SectionId,
) -> Result<(&'a [i32], &'a [i32]), BlobError> {
    let bytes = sections
        .get(id)
        .ok_or(BlobError::MissingSection { section: id })?;
    let words: &[i32] = bytemuck::try_cast_slice(bytes).map_err(|_| BlobError::Misaligned {
        section: id,
        offset: 0,
    })?;
    let (m, s) = words.split_at(words.len() / 2);
    let bad = |i: usize| BlobError::BadQuantParam {
        section: id,
        index: i as u32,
    };
    if let Some(i) = m.iter().position(|&v| v <= 0) {
        return Err(bad(i));
    }
    if let Some(i) = s.iter().position(|v| !(SHIFT_MIN..=SHIFT_MAX).contains(v)) {
        return Err(bad(m.len() + i));
    }
    Ok((m, s))
}

fn check_weights(id: SectionId, w: &[i8]) -> Result<(), BlobError> {
    match w.iter().position(|&v| v == i8::MIN) {
        Some(i) => Err(BlobError::BadQuantParam {
            section: id,
            index: i as u32,
        }),
        None => Ok(()),
    }
}

fn check_bias(id: SectionId, b: &[i32]) -> Result<(), BlobError> {
    match b.iter().position(|&v| v.unsigned_abs() > BIAS_LIMIT as u32) {
        Some(i) => Err(BlobError::BadQuantParam {
            section: id,
            index: i as u32,
        }),
        None => Ok(()),
    }
}

fn quant_layer<'a, const OC: usize, const WN: usize>(
    sections: &Sections<'a>,
    [w, b, r]: [SectionId; 3],
    in_zp: i32,
    out_zp: i32,
    relu: bool,
) -> Result<QuantLayer<'a, OC, WN>, BlobError> {
    let weights: &[i8; WN] = typed(sections, w)?;
    check_weights(w, weights)?;
    let bias: &[i32; OC] = typed(sections, b)?;
    check_bias(b, bias)?;
    let requant = split_requant(sections, r)?;
    Ok(QuantLayer {
        weights,
        bias,
        requant,
        in_zp,
        out_zp,
        act_min: if relu { out_zp } else { -128 },
        act_max: 127,
    })
}

/// fc1 with int8 or int4 weights, as the blob stores `fc1.weight.q`.
fn fc1_layer<'a>(sections: &Sections<'a>, in_zp: i32, out_zp: i32) -> Result<Fc1<'a>, BlobError> {
    use SectionId as S;
    let int4 = sections
        .iter()
        .any(|v| v.id == S::Fc1WeightQ && v.dtype == DType::I4);
    if !int4 {
        return quant_layer(
            sections,
            [S::Fc1WeightQ, S::Fc1BiasQ, S::Fc1Requant],
            in_zp,
            out_zp,
            true,
        )
        .map(Fc1::I8);
    }
    let weights: &[u8; FC1_I4_LEN] = typed(sections, S::Fc1WeightQ)?;
    check_i4_weights(S::Fc1WeightQ, weights, FLAT)?;
    let bias: &[i32; FC1] = typed(sections, S::Fc1BiasQ)?;
    check_bias(S::Fc1BiasQ, bias)?;
    Ok(Fc1::I4(QuantLayer {
        weights,
        bias,
        requant: split_requant(sections, S::Fc1Requant)?,
        in_zp,
        out_zp,
        act_min: out_zp,
        act_max: 127,
    }))
}

/// Every nibble of int4 rows of `cols` elements is in `[-7, 7]` (not `0x8`) and every padding
/// nibble (past `cols` in a row's last group) is 0. The index reported counts elements with each
/// row's padding (`row · row_len + i`, `row_len` = the row's groups × 8).
fn check_i4_weights(id: SectionId, packed: &[u8], cols: usize) -> Result<(), BlobError> {
    let row_bytes = i4::row_bytes(cols);
    for (r, row) in packed.chunks_exact(row_bytes).enumerate() {
        for k in 0..row_bytes * 2 {
            let (byte, shift) = i4::position(k);
            let nibble = (row[byte] >> shift) & 0x0F;
            if nibble == 0x8 || (k >= cols && nibble != 0) {
                return Err(BlobError::BadQuantParam {
                    section: id,
                    index: (r * row_bytes * 2 + k) as u32,
                });
            }
        }
    }
    Ok(())
}

impl<'a> Model<'a> {
    /// Parses a blob in place: no copy, no allocation.
    ///
    /// `bytes` must start at a 4-byte aligned address (wrap `include_bytes!` in a
    /// `#[repr(align(16))]` struct on firmware). A precision is present when all of its sections
    /// are; at least one must be.
    ///
    /// # Errors
    /// A [`BlobError`] for every way the bytes can be wrong.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BlobError> {
        let sections = Sections::parse(bytes)?;
        let activation = sections.header().activation;
        let f32 = if present(&sections, &SectionId::F32_SET)? {
            Some(F32Model {
                activation,
                conv1_w: typed(&sections, SectionId::Conv1Weight)?,
                conv1_b: typed(&sections, SectionId::Conv1Bias)?,
                conv2_w: typed(&sections, SectionId::Conv2Weight)?,
                conv2_b: typed(&sections, SectionId::Conv2Bias)?,
                fc1_w: typed(&sections, SectionId::Fc1Weight)?,
                fc1_b: typed(&sections, SectionId::Fc1Bias)?,
                fc2_w: typed(&sections, SectionId::Fc2Weight)?,
                fc2_b: typed(&sections, SectionId::Fc2Bias)?,
            })
        } else {
            None
        };
        let int8 = int8_from(&sections)?;
        if f32.is_none() && int8.is_none() {
            // Unreachable for a parsed table (every section belongs to one of the two sets and
            // an incomplete set is an error), kept so that no path can yield an empty model.
            return Err(BlobError::MissingSection {
                section: SectionId::Conv1Weight,
            });
        }
        Ok(Self {
            sections,
            f32,
            int8,
        })
    }

    /// The hidden-layer activation.
    pub fn activation(&self) -> Activation {
        self.sections.header().activation
    }

    /// The validated section table (for inspection tools).
    pub fn sections(&self) -> &Sections<'a> {
        &self.sections
    }

    /// The f32 model, if the blob carries one.
    pub fn f32(&self) -> Option<&F32Model<'a>> {
        self.f32.as_ref()
    }

    /// The int8 model, if the blob carries one.
    pub fn int8(&self) -> Option<&I8Model<'a>> {
        self.int8.as_ref()
    }
}

/// The int8 model of a parsed table, if it has the int8 set (a ReLU model).
fn int8_from<'a>(sections: &Sections<'a>) -> Result<Option<I8Model<'a>>, BlobError> {
    if !present(sections, &SectionId::INT8_SET)? {
        return Ok(None);
    }
    let activation = sections.header().activation;
    if activation != Activation::Relu {
        return Err(BlobError::BadActivation {
            found: activation.code(),
        });
    }
    parse_int8(sections).map(Some)
}

/// Whether a precision's sections are all present; an incomplete set is an error.
fn present(sections: &Sections<'_>, set: &[SectionId]) -> Result<bool, BlobError> {
    let any = set.iter().any(|&s| sections.contains(s));
    match set.iter().find(|&&s| !sections.contains(s)) {
        Some(&missing) if any => Err(BlobError::MissingSection { section: missing }),
        Some(_) => Ok(false),
        None => Ok(true),
    }
}

fn parse_int8<'a>(sections: &Sections<'a>) -> Result<I8Model<'a>, BlobError> {
    use SectionId as S;
    let zero_points: &[i32; QUANT_POINTS] = typed(sections, S::ZeroPoints)?;
    for (i, &zp) in zero_points.iter().enumerate() {
        let bad = !(-128..=127).contains(&zp) || (i == 0 && zp != INPUT_ZERO_POINT);
        if bad {
            return Err(BlobError::BadQuantParam {
                section: S::ZeroPoints,
                index: i as u32,
            });
        }
    }
    let scales: &[u32; QUANT_POINTS] = typed(sections, S::Scales)?;
    for (i, &bits) in scales.iter().enumerate() {
        // Finite, positive, non-zero: sign 0, exponent not all ones, not +0. Integer-only check.
        if bits >> 31 != 0 || bits & 0x7f80_0000 == 0x7f80_0000 || bits == 0 {
            return Err(BlobError::BadQuantParam {
                section: S::Scales,
                index: i as u32,
            });
        }
    }
    let zp = *zero_points;
    Ok(I8Model {
        conv1: quant_layer(
            sections,
            [S::Conv1WeightQ, S::Conv1BiasQ, S::Conv1Requant],
            zp[0],
            zp[1],
            true,
        )?,
        conv2: quant_layer(
            sections,
            [S::Conv2WeightQ, S::Conv2BiasQ, S::Conv2Requant],
            zp[1],
            zp[2],
            true,
        )?,
        fc1: fc1_layer(sections, zp[2], zp[3])?,
        fc2: quant_layer(
            sections,
            [S::Fc2WeightQ, S::Fc2BiasQ, S::Fc2Requant],
            zp[3],
            zp[4],
            false,
        )?,
        scales,
        zero_points,
    })
}

impl F32Model<'_> {
    /// Runs the f32 network on a CHW `[1][28][28]` image (pixels scaled to `[0, 1]` by
    /// [`pixels_to_f32`]) and returns the 10 logits. Softmax is left to the caller.
    ///
    /// With the `std` feature on x86-64 CPUs with AVX-512 this runs
    /// `kernels::x86::forward_f32` (bit-identical); everywhere else it is
    /// [`F32Model::forward_portable`].
    pub fn forward(&self, input: &[f32; IN_LEN], scratch: &mut ScratchF32) -> [f32; CLASSES] {
        #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
        if let Some(logits) =
            crate::kernels::x86::forward_f32(&self.x86_layers(), input, scratch.x86_buffers())
        {
            return logits;
        }
        self.forward_portable(input, scratch)
    }

    /// [`F32Model::forward`] with the portable kernels only: the reference every accelerated
    /// path must reproduce bit for bit, and what `no_std` targets always run.
    pub fn forward_portable(
        &self,
        input: &[f32; IN_LEN],
        scratch: &mut ScratchF32,
    ) -> [f32; CLASSES] {
        let act = self.activation;
        conv2d_act_pool_f32::<IN_C, C1, IN_H, IN_W, IN_LEN, CONV1_W_LEN, POOL1_LEN>(
            input,
            self.conv1_w,
            self.conv1_b,
            act,
            &mut scratch.pool1,
        );
        conv2d_act_pool_f32::<C1, C2, P1, P1, POOL1_LEN, CONV2_W_LEN, FLAT>(
            &scratch.pool1,
            self.conv2_w,
            self.conv2_b,
            act,
            &mut scratch.pool2,
        );
        dense_f32(
            &scratch.pool2,
            self.fc1_w,
            self.fc1_b,
            Some(act),
            &mut scratch.fc1,
        );
        let mut logits = [0.0f32; CLASSES];
        dense_f32(&scratch.fc1, self.fc2_w, self.fc2_b, None, &mut logits);
        logits
    }

    /// [`F32Model::forward`] followed by argmax.
    pub fn predict(&self, input: &[f32; IN_LEN], scratch: &mut ScratchF32) -> Prediction<f32> {
        let logits = self.forward(input, scratch);
        Prediction {
            digit: argmax_f32(&logits) as u8,
            logits,
        }
    }
}

impl<'a> I8Model<'a> {
    /// Parses a blob in place and returns its int8 model: the same checks as [`Model::parse`]
    /// (header, CRC, section table, complete sets, every int8 parameter) without building views
    /// of an f32 model the blob may also carry, so an int8-only consumer (the firmware) does not
    /// carry that code.
    ///
    /// # Errors
    /// As [`Model::parse`], and [`BlobError::MissingSection`] (the first int8 section) when the
    /// blob has no int8 model.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BlobError> {
        let sections = Sections::parse(bytes)?;
        present(&sections, &SectionId::F32_SET)?;
        int8_from(&sections)?.ok_or(BlobError::MissingSection {
            section: SectionId::INT8_SET[0],
        })
    }

    /// Runs the integer-only network on raw 8-bit pixels (row-major 28x28, 0 = background) and
    /// returns the 10 int8 logits (zero point `zero_points[4]`).
    ///
    /// With the `std` feature on x86-64 CPUs with AVX-512 VNNI or AVX2 this runs
    /// `kernels::x86::forward_i8` (bit-identical, several times faster); everywhere
    /// else it is [`I8Model::forward_portable`].
    pub fn forward(&self, pixels: &[u8; IN_LEN], scratch: &mut ScratchI8) -> [i8; CLASSES] {
        #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
        if let Some(layers) = self.x86_layers()
            && let Some(logits) =
                crate::kernels::x86::forward_i8(&layers, pixels, scratch.x86_buffers())
        {
            return logits;
        }
        self.forward_portable(pixels, scratch)
    }

    /// [`I8Model::forward`] with the portable kernels only: the reference every accelerated
    /// path must reproduce byte for byte, and what `no_std` targets always run.
    pub fn forward_portable(
        &self,
        pixels: &[u8; IN_LEN],
        scratch: &mut ScratchI8,
    ) -> [i8; CLASSES] {
        for (q, &p) in scratch.input.iter_mut().zip(pixels) {
            *q = pixel_to_i8(p);
        }
        self.run_conv1(&scratch.input, &mut scratch.pool1);
        self.run_conv2(&scratch.pool1, &mut scratch.pool2);
        self.run_fc1(&scratch.pool2, &mut scratch.fc1);
        let mut logits = [0i8; CLASSES];
        self.run_fc2(&scratch.fc1, &mut logits);
        logits
    }

    /// conv1 + ReLU + max-pool of [`I8Model::forward_portable`]: int8 input `[1][28][28]` →
    /// `[20][14][14]`. The layers are public so that a profiler can time each one as the
    /// forward pass runs it. Each `run_*` layer is out of line: compiled once, with lenet-core's
    /// own optimisation level, even inside a firmware built for size.
    #[inline(never)]
    pub fn run_conv1(&self, input: &[i8; IN_LEN], out: &mut [i8; POOL1_LEN]) {
        conv2d_relu_pool_i8::<IN_C, C1, IN_H, IN_W, IN_LEN, CONV1_W_LEN, POOL1_LEN>(
            input,
            &self.conv1,
            out,
        );
    }

    /// conv2 + ReLU + max-pool: `[20][14][14]` → `[50][7][7]` (the flattened 2,450 inputs of fc1).
    #[inline(never)]
    pub fn run_conv2(&self, input: &[i8; POOL1_LEN], out: &mut [i8; FLAT]) {
        conv2d_relu_pool_i8::<C1, C2, P1, P1, POOL1_LEN, CONV2_W_LEN, FLAT>(
            input,
            &self.conv2,
            out,
        );
    }

    /// fc1 + ReLU: 2,450 → 500.
    #[inline(never)]
    pub fn run_fc1(&self, input: &[i8; FLAT], out: &mut [i8; FC1]) {
        match &self.fc1 {
            Fc1::I8(layer) => dense_i8(input, layer, out),
            Fc1::I4(layer) => dense_i4(input, layer, out),
        }
    }

    /// fc2: 500 → the 10 int8 logits.
    #[inline(never)]
    pub fn run_fc2(&self, input: &[i8; FC1], out: &mut [i8; CLASSES]) {
        dense_i8(input, &self.fc2, out);
    }

    /// [`I8Model::forward`] followed by argmax.
    pub fn predict(&self, pixels: &[u8; IN_LEN], scratch: &mut ScratchI8) -> Prediction<i8> {
        let logits = self.forward(pixels, scratch);
        Prediction {
            digit: argmax_i8(&logits) as u8,
            logits,
        }
    }

    /// Scales of the input, pool1, pool2, fc1 and logits tensors as stored in the blob.
    pub fn scales(&self) -> [f32; QUANT_POINTS] {
        self.scales.map(f32::from_bits)
    }
}

/// Scales raw 8-bit pixels to `[0, 1]` (`p / 255`), the f32 network's input.
pub fn pixels_to_f32(pixels: &[u8; IN_LEN]) -> [f32; IN_LEN] {
    pixels.map(|p| f32::from(p) / 255.0)
}

#[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
pub use x86::{PackedF32, PackedI8};

/// x86-64 (`std`): the models' views for `kernels::x86`, and the models with their weights
/// repacked once. The kernels take plain views ([`I8Layers`](crate::kernels::x86::I8Layers),
/// [`I8Buffers`](crate::kernels::x86::I8Buffers), …); the model builds them and falls back to
/// the portable kernels where they return `None`.
#[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
mod x86 {
    use std::boxed::Box;

    use super::{F32Model, I8Model, ScratchF32, ScratchI8};
    use crate::kernels::x86::{
        F32Buffers, F32Layers, I8Buffers, I8Isa, I8Layers, PackedF32Layers, PackedI8Layers,
    };
    use crate::shape::{CLASSES, IN_LEN};

    impl<'a> I8Model<'a> {
        /// The four layers as the x86 kernels read them (`kernels::x86::forward_i8` and
        /// friends); `None` for int4 fc1 weights, which only the portable kernels run.
        pub fn x86_layers(&self) -> Option<I8Layers<'a>> {
            Some(I8Layers {
                conv1: self.conv1,
                conv2: self.conv2,
                fc1: *self.fc1.int8()?,
                fc2: self.fc2,
            })
        }
    }

    impl<'a> F32Model<'a> {
        /// The parameters as the x86 kernels read them (`kernels::x86::forward_f32` and
        /// friends).
        pub fn x86_layers(&self) -> F32Layers<'a> {
            F32Layers {
                activation: self.activation,
                conv1_w: self.conv1_w,
                conv1_b: self.conv1_b,
                conv2_w: self.conv2_w,
                conv2_b: self.conv2_b,
                fc1_w: self.fc1_w,
                fc1_b: self.fc1_b,
                fc2_w: self.fc2_w,
                fc2_b: self.fc2_b,
            }
        }
    }

    impl ScratchI8 {
        /// The buffers, for an x86 kernel to fill as the portable pass does.
        pub fn x86_buffers(&mut self) -> I8Buffers<'_> {
            I8Buffers {
                input: &mut self.input,
                pool1: &mut self.pool1,
                pool2: &mut self.pool2,
                fc1: &mut self.fc1,
            }
        }
    }

    impl ScratchF32 {
        /// The buffers, for an x86 kernel to fill as the portable pass does.
        pub fn x86_buffers(&mut self) -> F32Buffers<'_> {
            F32Buffers {
                pool1: &mut self.pool1,
                pool2: &mut self.pool2,
                fc1: &mut self.fc1,
            }
        }
    }

    /// An [`I8Model`] with its convolution weights repacked once for the int8 AVX-512 VNNI or
    /// AVX2 kernels (about 35 KB on the heap).
    ///
    /// [`PackedI8::forward`] gives exactly the bytes of [`I8Model::forward`] (and of the portable
    /// kernels) on every CPU; it is faster on CPUs with AVX-512 VNNI or AVX2, where it skips the
    /// per-call repacking that [`I8Model::forward`] does. Build it once per model:
    ///
    /// ```
    /// use lenet_core::{Model, ScratchI8, model::PackedI8};
    /// # fn run(model: &Model<'_>) {
    /// let packed = PackedI8::new(model.int8().unwrap());
    /// let mut scratch = ScratchI8::new();
    /// let logits = packed.forward(&[0u8; 784], &mut scratch);
    /// # let _ = logits;
    /// # }
    /// ```
    pub struct PackedI8<'a> {
        model: I8Model<'a>,
        /// `None` for a model the x86 kernels cannot run (int4 fc1 weights).
        layers: Option<PackedI8Layers<'a>>,
    }

    impl<'a> PackedI8<'a> {
        /// Repacks `model`'s weights (no-op but a copy of the views when no fast path can run).
        pub fn new(model: &I8Model<'a>) -> Box<Self> {
            Box::new(Self {
                model: *model,
                layers: model.x86_layers().map(|l| PackedI8Layers::new(&l)),
            })
        }

        /// The model it was built from.
        pub fn model(&self) -> &I8Model<'a> {
            &self.model
        }

        /// The int8 kernel family [`PackedI8::forward`] runs (`None`: the portable kernels).
        pub fn isa(&self) -> Option<I8Isa> {
            self.layers.as_ref()?.isa()
        }

        /// Same contract and result as [`I8Model::forward`].
        pub fn forward(&self, pixels: &[u8; IN_LEN], scratch: &mut ScratchI8) -> [i8; CLASSES] {
            if let Some(layers) = &self.layers
                && let Some(logits) = layers.forward(pixels, scratch.x86_buffers())
            {
                return logits;
            }
            self.model.forward_portable(pixels, scratch)
        }

        /// Only the two convolutions of [`PackedI8::forward`] (for the per-layer benchmark;
        /// nothing without a fast path).
        #[doc(hidden)]
        pub fn forward_convs(&self, pixels: &[u8; IN_LEN], scratch: &mut ScratchI8) {
            if let Some(layers) = &self.layers {
                layers.forward_convs(pixels, scratch.x86_buffers());
            }
        }
    }

    /// An [`F32Model`] with its dense weights repacked once (lanes = output units, about 5 MB on
    /// the heap) for the AVX-512 kernels.
    ///
    /// [`PackedF32::forward`] gives exactly the bits of [`F32Model::forward`] (and of the
    /// portable kernels) on every CPU; on CPUs with AVX-512 F its dense layers are vectorised
    /// too. Build it once per model and reuse it.
    pub struct PackedF32<'a> {
        model: F32Model<'a>,
        layers: PackedF32Layers<'a>,
    }

    impl<'a> PackedF32<'a> {
        /// Repacks `model`'s dense weights.
        pub fn new(model: &F32Model<'a>) -> Box<Self> {
            Box::new(Self {
                model: *model,
                layers: PackedF32Layers::new(&model.x86_layers()),
            })
        }

        /// The model it was built from.
        pub fn model(&self) -> &F32Model<'a> {
            &self.model
        }

        /// Whether [`PackedF32::forward`] runs the AVX-512 kernels (else the portable ones).
        pub fn accelerated(&self) -> bool {
            self.layers.accelerated()
        }

        /// Only the two convolutions of [`PackedF32::forward`] (for the per-layer benchmark;
        /// nothing without a fast path).
        #[doc(hidden)]
        pub fn forward_convs(&self, input: &[f32; IN_LEN], scratch: &mut ScratchF32) {
            self.layers.forward_convs(input, scratch.x86_buffers());
        }

        /// Same contract and result as [`F32Model::forward`].
        pub fn forward(&self, input: &[f32; IN_LEN], scratch: &mut ScratchF32) -> [f32; CLASSES] {
            if let Some(logits) = self.layers.forward(input, scratch.x86_buffers()) {
                return logits;
            }
            self.model.forward_portable(input, scratch)
        }
    }
}
