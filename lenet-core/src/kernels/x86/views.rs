//! The plain views the x86 kernels read and fill: the layers' parameters (borrowed from a
//! model), the buffers of a forward pass, and the int8 kernel families. The model builds them;
//! nothing here knows the model.

use super::detect::{avx2_available, int8_available};
use crate::blob::Activation;
use crate::kernels::QuantLayer;
use crate::shape::{
    C1, C2, CLASSES, CONV1_W_LEN, CONV2_W_LEN, F32_BATCH, FC1, FC1_W_LEN, FC2_W_LEN, FLAT, IN_LEN,
    POOL1_LEN,
};

/// An int8 kernel family.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum I8Isa {
    /// AVX2 (`vpmaddwd` on 16-bit lanes, 8 output channels per vector).
    Avx2,
    /// AVX-512 F, BW and VNNI (`vpdpbusd`, 16 output channels per vector).
    Avx512Vnni,
}

impl I8Isa {
    /// Both families, slowest first.
    pub const ALL: [Self; 2] = [Self::Avx2, Self::Avx512Vnni];

    /// Whether this CPU has the family's features (detected once, then cached).
    pub fn available(self) -> bool {
        match self {
            Self::Avx2 => avx2_available(),
            Self::Avx512Vnni => int8_available(),
        }
    }

    /// Short name: `"avx2"` or `"avx512vnni"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Avx2 => "avx2",
            Self::Avx512Vnni => "avx512vnni",
        }
    }
}

/// The four int8 layers, as the x86 kernels read them (views into a blob; copied from the
/// model's fields).
#[derive(Debug, Clone, Copy)]
pub struct I8Layers<'a> {
    /// conv1: 1 → 20 channels, input zero point −128 for the fast paths.
    pub conv1: QuantLayer<'a, C1, CONV1_W_LEN>,
    /// conv2: 20 → 50 channels.
    pub conv2: QuantLayer<'a, C2, CONV2_W_LEN>,
    /// fc1: 2450 → 500.
    pub fc1: QuantLayer<'a, FC1, FC1_W_LEN>,
    /// fc2: 500 → 10.
    pub fc2: QuantLayer<'a, CLASSES, FC2_W_LEN>,
}

/// The buffers an int8 forward pass leaves filled, as the portable pass leaves them.
#[derive(Debug)]
pub struct I8Buffers<'s> {
    /// The int8 input `pixel − 128`, `[1][28][28]`.
    pub input: &'s mut [i8; IN_LEN],
    /// Pooled conv1 output, CHW `[20][14][14]`.
    pub pool1: &'s mut [i8; POOL1_LEN],
    /// Pooled conv2 output, CHW `[50][7][7]`.
    pub pool2: &'s mut [i8; FLAT],
    /// fc1 output, `[500]`.
    pub fc1: &'s mut [i8; FC1],
}

/// The f32 network's parameters, as the x86 kernels read them (views into a blob; copied from
/// the model's fields).
#[derive(Debug, Clone, Copy)]
pub struct F32Layers<'a> {
    /// Hidden-layer activation (only ReLU is accelerated).
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

/// The buffers an f32 forward pass leaves filled, as the portable pass leaves them.
#[derive(Debug)]
pub struct F32Buffers<'s> {
    /// Pooled conv1 output, CHW `[20][14][14]`.
    pub pool1: &'s mut [f32; POOL1_LEN],
    /// Pooled conv2 output, CHW `[50][7][7]`.
    pub pool2: &'s mut [f32; FLAT],
    /// fc1 output, `[500]`.
    pub fc1: &'s mut [f32; FC1],
    /// Which way the next pass runs fc1's rows (from the last when `true`); each pass flips it,
    /// so that the rows the previous pass left in cache are read first. The order changes no
    /// bit of the results.
    pub fc1_reverse: &'s mut bool,
}

/// Images the batched f32 convolutions run side by side, one per lane of a 512-bit vector.
pub const LANE_IMAGES: usize = 16;

/// The buffers of a batched f32 pass ([`forward_f32_batch`](super::forward_f32_batch)).
///
/// The `*_lanes` maps hold [`LANE_IMAGES`] images interleaved: value `j` of image `b` is
/// element `j · 16 + b`.
#[derive(Debug)]
pub struct F32BatchBuffers<'s> {
    /// Pooled conv2 outputs, one per image of the batch, CHW `[50][7][7]`.
    pub pool2: &'s mut [[f32; FLAT]; F32_BATCH],
    /// fc1 outputs, one per image of the batch, `[500]`.
    pub fc1: &'s mut [[f32; FC1]; F32_BATCH],
    /// The input images, interleaved `[1][28][28][16]`.
    pub input_lanes: &'s mut [f32; IN_LEN * LANE_IMAGES],
    /// Pooled conv1 outputs, interleaved `[20][14][14][16]`.
    pub pool1_lanes: &'s mut [f32; POOL1_LEN * LANE_IMAGES],
    /// Pooled conv2 outputs, interleaved `[50][7][7][16]`.
    pub pool2_lanes: &'s mut [f32; FLAT * LANE_IMAGES],
    /// conv1's weights as `[IC][K][K][OC]`.
    pub conv1_wt: &'s mut [f32; CONV1_W_LEN],
    /// conv2's weights as `[IC][K][K][OC]`.
    pub conv2_wt: &'s mut [f32; CONV2_W_LEN],
}
