//! The seed network's dimensions as constants, with every derived size checked at compile time.
//!
//! ```text
//! INPUT 1x28x28 => CONV 20@5x5 same => act => MAXPOOL 2/2 => 20x14x14
//!               => CONV 50@5x5 same => act => MAXPOOL 2/2 => 50x7x7
//!               => FLATTEN 2450 => FC 500 => act => FC 10
//! ```
//!
//! Activations are stored CHW (channel, row, column), weights OIHW for convolutions and
//! `[out][in]` for dense layers. The flatten order is CHW: element `c * 49 + y * 7 + x`.

/// Input height in pixels.
pub const IN_H: usize = 28;
/// Input width in pixels.
pub const IN_W: usize = 28;
/// Input channels (grey).
pub const IN_C: usize = 1;
/// Pixels in one input image.
pub const IN_LEN: usize = IN_C * IN_H * IN_W;
/// Convolution kernel size (square).
pub const K: usize = 5;
/// "Same" padding on each side of a 5x5 convolution.
pub const PAD: usize = K / 2;
/// Output channels of the first convolution.
pub const C1: usize = 20;
/// Output channels of the second convolution.
pub const C2: usize = 50;
/// Height and width after the first 2x2 max-pool.
pub const P1: usize = IN_H / 2;
/// Height and width after the second 2x2 max-pool.
pub const P2: usize = P1 / 2;
/// Elements of the first pooled feature map (`C1 x P1 x P1`).
pub const POOL1_LEN: usize = C1 * P1 * P1;
/// Elements of the second pooled feature map, also the flattened length (`C2 x P2 x P2`).
pub const FLAT: usize = C2 * P2 * P2;
/// Units of the hidden dense layer.
pub const FC1: usize = 500;
/// Number of classes (digits 0-9).
pub const CLASSES: usize = 10;

/// Weights of the first convolution (`C1 x IN_C x K x K`).
pub const CONV1_W_LEN: usize = C1 * IN_C * K * K;
/// Weights of the second convolution (`C2 x C1 x K x K`).
pub const CONV2_W_LEN: usize = C2 * C1 * K * K;
/// Weights of the hidden dense layer (`FC1 x FLAT`).
pub const FC1_W_LEN: usize = FC1 * FLAT;
/// Bytes of fc1's weights as int4 (`crate::blob::i4`): 500 rows of 1,228 bytes (2,450 elements
/// in 307 groups of 8, the last one holding 2).
pub const FC1_I4_LEN: usize = FC1 * crate::blob::i4::row_bytes(FLAT);
/// Weights of the output dense layer (`CLASSES x FC1`).
pub const FC2_W_LEN: usize = CLASSES * FC1;
/// Trainable parameters of the whole network (weights and biases).
pub const PARAMS: usize =
    CONV1_W_LEN + C1 + CONV2_W_LEN + C2 + FC1_W_LEN + FC1 + FC2_W_LEN + CLASSES;

/// Multiply-accumulates of one forward pass (conv1 + conv2 + fc1 + fc2).
pub const MACS: usize =
    IN_H * IN_W * C1 * IN_C * K * K + P1 * P1 * C2 * C1 * K * K + FC1_W_LEN + FC2_W_LEN;

/// Images one call of [`F32Model::forward_batch`](crate::F32Model::forward_batch) runs
/// together (the rest of a longer slice runs in further groups of this size).
pub const F32_BATCH: usize = 32;

const _: () = assert!(
    IN_H.is_multiple_of(2) && P1.is_multiple_of(2),
    "2x2/2 pooling needs even sizes"
);
const _: () = assert!(FLAT == 2450);
const _: () = assert!(
    PARAMS == 1_256_080,
    "the seed network has 1,256,080 parameters"
);
const _: () = assert!(MACS == 6_522_000);
