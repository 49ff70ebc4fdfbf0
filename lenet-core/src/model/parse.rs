//! Parsing: a blob's validated sections turned into the typed views of [`Model`], every int8
//! parameter checked once so that the forward passes cannot fail.

use super::float::F32Model;
use super::int8::{Fc1, I8Model};
use crate::blob::{Activation, BlobError, DType, QUANT_POINTS, SectionId, Sections, i4};
use crate::kernels::{QuantLayer, Requant};
use crate::quant::{BIAS_LIMIT, INPUT_ZERO_POINT, SHIFT_MAX, SHIFT_MIN};
use crate::shape::{FC1, FC1_I4_LEN, FLAT};

/// A parsed weight blob: the activation and whichever of the f32 and int8 models it carries.
///
/// Parsing checks everything once; the forward passes that follow cannot fail.
#[derive(Debug, Clone, Copy)]
pub struct Model<'a> {
    sections: Sections<'a>,
    f32: Option<F32Model<'a>>,
    int8: Option<I8Model<'a>>,
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
    /// `bytes` must start at a 4-byte aligned address (embed `include_bytes!` in an
    /// [`Aligned`](crate::aligned::Aligned) static on firmware, copy run-time bytes into an
    /// `AlignedBytes`). A precision is present when all of its sections
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
        return Err(BlobError::Int8NeedsRelu { found: activation });
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
}
