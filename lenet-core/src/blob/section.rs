//! The sections format version 1 defines: their ids, names, element types and shapes, and the
//! one alternative layout some of them may have.

use core::fmt;

use super::i4;
use crate::shape::{C1, C2, CLASSES, FC1, FLAT, IN_C, K};

/// Element type of a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DType {
    /// IEEE-754 binary32, little-endian.
    F32,
    /// Two's complement 8-bit.
    I8,
    /// Two's complement 32-bit, little-endian.
    I32,
    /// Two's complement 4-bit, two per byte in the grouped row layout of [`i4`].
    I4,
}

impl DType {
    /// The section-table code of this type.
    pub const fn code(self) -> u8 {
        match self {
            Self::F32 => 1,
            Self::I8 => 2,
            Self::I32 => 3,
            Self::I4 => 4,
        }
    }
}

/// The element type and dimensions of a section as stored, which fix its byte length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Layout {
    /// Element type.
    pub dtype: DType,
    /// Dimensions, outermost first; unused trailing ones are 0.
    pub dims: [u32; 4],
}

impl Layout {
    /// Number of dimensions (1 to 4).
    pub const fn rank(&self) -> u8 {
        let mut r = 0;
        while r < 4 && self.dims[r] != 0 {
            r += 1;
        }
        r as u8
    }

    /// Number of elements.
    pub const fn elements(&self) -> usize {
        let mut n = 1usize;
        let mut i = 0;
        while i < self.rank() as usize {
            n *= self.dims[i] as usize;
            i += 1;
        }
        n
    }

    /// Bytes of data: elements x 4 (f32, i32) or x 1 (i8); for i4 (a rank-2 `[rows][cols]`
    /// matrix), `rows x` [`i4::row_bytes`]`(cols)`.
    pub const fn byte_len(&self) -> usize {
        match self.dtype {
            DType::F32 | DType::I32 => self.elements() * 4,
            DType::I8 => self.elements(),
            DType::I4 => self.dims[0] as usize * i4::row_bytes(self.dims[1] as usize),
        }
    }
}

macro_rules! sections {
    ($($(#[$doc:meta])* $name:ident = $id:literal, $label:literal, $dtype:ident, [$($dim:expr),+];)+) => {
        /// Identifies a section of the blob; the discriminant is the id stored in the table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u16)]
        pub enum SectionId {
            $($(#[$doc])* $name = $id,)+
        }

        impl SectionId {
            /// Every section defined by format version 1, in id order.
            pub const ALL: &'static [SectionId] = &[$(SectionId::$name),+];

            /// The section for a raw id.
            pub const fn from_id(id: u16) -> Option<Self> {
                match id {
                    $($id => Some(Self::$name),)+
                    _ => None,
                }
            }

            /// The id stored in the section table.
            pub const fn id(self) -> u16 {
                self as u16
            }

            /// A short name (`conv1.weight`, `fc2.requant`, …) matching the host model's fields.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$name => $label,)+
                }
            }

            /// The element type of this section's default layout.
            pub const fn dtype(self) -> DType {
                match self {
                    $(Self::$name => DType::$dtype,)+
                }
            }

            /// The dimensions this section has (unused trailing dimensions are 0), in its
            /// default layout ([`SectionId::layout`]).
            pub const fn dims(self) -> [u32; 4] {
                match self {
                    $(Self::$name => pad_dims(&[$($dim as u32),+]),)+
                }
            }
        }
    };
}

const fn pad_dims(d: &[u32]) -> [u32; 4] {
    let mut out = [0u32; 4];
    let mut i = 0;
    while i < d.len() {
        out[i] = d[i];
        i += 1;
    }
    out
}

/// Number of int8 tensor boundaries with a scale and zero point: input, pool1, pool2, fc1, logits.
pub const QUANT_POINTS: usize = 5;

/// Shape of a per-tensor requantization section, `[2, 1]`: one multiplier and one shift that
/// every output channel of the layer uses.
pub const PER_TENSOR_REQUANT_DIMS: [u32; 4] = [2, 1, 0, 0];

/// Bytes of a per-tensor requantization section (two `i32`).
pub const PER_TENSOR_REQUANT_LEN: usize = 8;

sections! {
    /// f32 `[20, 1, 5, 5]` (OIHW).
    Conv1Weight = 1, "conv1.weight", F32, [C1, IN_C, K, K];
    /// f32 `[20]`.
    Conv1Bias = 2, "conv1.bias", F32, [C1];
    /// f32 `[50, 20, 5, 5]` (OIHW).
    Conv2Weight = 3, "conv2.weight", F32, [C2, C1, K, K];
    /// f32 `[50]`.
    Conv2Bias = 4, "conv2.bias", F32, [C2];
    /// f32 `[500, 2450]` (`[out][in]`, input in CHW flatten order).
    Fc1Weight = 5, "fc1.weight", F32, [FC1, FLAT];
    /// f32 `[500]`.
    Fc1Bias = 6, "fc1.bias", F32, [FC1];
    /// f32 `[10, 500]` (`[out][in]`).
    Fc2Weight = 7, "fc2.weight", F32, [CLASSES, FC1];
    /// f32 `[10]`.
    Fc2Bias = 8, "fc2.bias", F32, [CLASSES];
    /// i8 `[20, 1, 5, 5]` (OIHW), symmetric per output channel, in `[-127, 127]`.
    Conv1WeightQ = 17, "conv1.weight.q", I8, [C1, IN_C, K, K];
    /// i32 `[20]`, scale `s_in * s_w[oc]`.
    Conv1BiasQ = 18, "conv1.bias.q", I32, [C1];
    /// i32 `[2, 20]`: row 0 multipliers, row 1 shifts; or `[2, 1]`, one pair for every channel
    /// (as every requantization section may be).
    Conv1Requant = 19, "conv1.requant", I32, [2, C1];
    /// i8 `[50, 20, 5, 5]` (OIHW).
    Conv2WeightQ = 20, "conv2.weight.q", I8, [C2, C1, K, K];
    /// i32 `[50]`.
    Conv2BiasQ = 21, "conv2.bias.q", I32, [C2];
    /// i32 `[2, 50]`.
    Conv2Requant = 22, "conv2.requant", I32, [2, C2];
    /// i8 `[500, 2450]` (`[out][in]`); or i4 of the same shape ([`i4`]), 614,000 bytes.
    Fc1WeightQ = 23, "fc1.weight.q", I8, [FC1, FLAT];
    /// i32 `[500]`.
    Fc1BiasQ = 24, "fc1.bias.q", I32, [FC1];
    /// i32 `[2, 500]`.
    Fc1Requant = 25, "fc1.requant", I32, [2, FC1];
    /// i8 `[10, 500]` (`[out][in]`).
    Fc2WeightQ = 26, "fc2.weight.q", I8, [CLASSES, FC1];
    /// i32 `[10]`.
    Fc2BiasQ = 27, "fc2.bias.q", I32, [CLASSES];
    /// i32 `[2, 10]`.
    Fc2Requant = 28, "fc2.requant", I32, [2, CLASSES];
    /// i32 `[5]`: zero points of the input (-128), pool1, pool2, fc1 and logits.
    ZeroPoints = 29, "quant.zero_points", I32, [QUANT_POINTS];
    /// f32 `[5]`: scales of the same five tensors (informational; the int8 pass never reads them).
    Scales = 30, "quant.scales", F32, [QUANT_POINTS];
}

impl SectionId {
    /// The sections of the f32 model.
    pub const F32_SET: [SectionId; 8] = [
        Self::Conv1Weight,
        Self::Conv1Bias,
        Self::Conv2Weight,
        Self::Conv2Bias,
        Self::Fc1Weight,
        Self::Fc1Bias,
        Self::Fc2Weight,
        Self::Fc2Bias,
    ];

    /// The sections of the int8 model.
    pub const INT8_SET: [SectionId; 14] = [
        Self::Conv1WeightQ,
        Self::Conv1BiasQ,
        Self::Conv1Requant,
        Self::Conv2WeightQ,
        Self::Conv2BiasQ,
        Self::Conv2Requant,
        Self::Fc1WeightQ,
        Self::Fc1BiasQ,
        Self::Fc1Requant,
        Self::Fc2WeightQ,
        Self::Fc2BiasQ,
        Self::Fc2Requant,
        Self::ZeroPoints,
        Self::Scales,
    ];

    /// Whether this is a layer's requantization section (ids 19, 22, 25, 28), which may have its
    /// per-channel shape `[2, OC]` or the per-tensor shape [`PER_TENSOR_REQUANT_DIMS`].
    pub const fn is_requant(self) -> bool {
        matches!(
            self,
            Self::Conv1Requant | Self::Conv2Requant | Self::Fc1Requant | Self::Fc2Requant
        )
    }

    /// The section's default layout: [`SectionId::dtype`] and [`SectionId::dims`].
    pub const fn layout(self) -> Layout {
        Layout {
            dtype: self.dtype(),
            dims: self.dims(),
        }
    }

    /// The one other layout the section may have: the per-tensor shape
    /// [`PER_TENSOR_REQUANT_DIMS`] for a requantization section, int4 weights ([`i4`]) for
    /// `fc1.weight.q`; `None` for every other section.
    pub const fn alt_layout(self) -> Option<Layout> {
        if self.is_requant() {
            Some(Layout {
                dtype: DType::I32,
                dims: PER_TENSOR_REQUANT_DIMS,
            })
        } else if matches!(self, Self::Fc1WeightQ) {
            Some(Layout {
                dtype: DType::I4,
                dims: self.dims(),
            })
        } else {
            None
        }
    }

    /// The layout stored with dtype code `dtype` and dimensions `dims`, if the section allows
    /// it. A reader checks the dtype first: `Err(false)` when no layout of the section has that
    /// dtype, `Err(true)` when one has but with other dimensions.
    pub const fn layout_for(self, dtype: u8, dims: [u32; 4]) -> Result<Layout, bool> {
        let mut dtype_known = false;
        let candidates = [Some(self.layout()), self.alt_layout()];
        let mut i = 0;
        while i < candidates.len() {
            if let Some(l) = candidates[i]
                && l.dtype.code() == dtype
            {
                dtype_known = true;
                if dims_eq(l.dims, dims) {
                    return Ok(l);
                }
            }
            i += 1;
        }
        Err(dtype_known)
    }

    /// The layout of a section with `len` bytes of data, if that length is allowed (the allowed
    /// layouts of a section all differ in length).
    pub const fn layout_for_len(self, len: usize) -> Option<Layout> {
        if len == self.byte_len() {
            Some(self.layout())
        } else if let Some(alt) = self.alt_layout()
            && alt.byte_len() == len
        {
            Some(alt)
        } else {
            None
        }
    }

    /// Number of dimensions (1 to 4) of the default layout.
    pub const fn rank(self) -> u8 {
        self.layout().rank()
    }

    /// Number of elements.
    pub const fn elements(self) -> usize {
        self.layout().elements()
    }

    /// Number of bytes of the section's data in its default layout.
    pub const fn byte_len(self) -> usize {
        self.layout().byte_len()
    }
}

const fn dims_eq(a: [u32; 4], b: [u32; 4]) -> bool {
    a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3]
}

impl fmt::Display for SectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (id {})", self.name(), self.id())
    }
}
