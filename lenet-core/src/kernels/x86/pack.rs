//! Weight packing and input layouts: the int8 convolution weights as `[tap group][output
//! channel][4 bytes]` (shared by the VNNI and the AVX2 kernels, with the byte offsets of their
//! padded inputs), and the f32 dense weights as `[block of 16 units][input][16]`.

use std::boxed::Box;

use crate::shape::{C1, C2, CONV1_W_LEN, CONV2_W_LEN, IN_H, IN_W, K, P1, PAD};

/// conv1 blocks of 16 output channels (20 → 32 lanes).
pub(super) const NB1: usize = C1.div_ceil(16);
/// conv2 blocks of 16 output channels (50 → 64 lanes).
pub(super) const NB2: usize = C2.div_ceil(16);
/// conv1 tap groups: per kernel row, `kx` 0..4 and `kx` 4 (with three zero weights).
pub(super) const G1: usize = 2 * K;
/// conv2 tap groups: per tap `(ky, kx)`, input channels in fours.
pub(super) const G2: usize = K * K * (C1 / 4);
/// Row length of the padded conv1 input: 2 + 28 + 2 columns, plus 3 read past by the last
/// group (zero weights), rounded to 36.
pub(super) const X1_ROW: usize = 36;
/// Rows of the padded conv1 input.
pub(super) const X1_ROWS: usize = IN_H + 2 * PAD;
/// Side of the padded, HWC conv2 input (`14 + 2 + 2`).
pub(super) const X2_SIDE: usize = P1 + 2 * PAD;

const _: () = assert!(C1.is_multiple_of(4), "conv2 groups input channels in fours");
const _: () = assert!(IN_W + 2 * PAD + 3 <= X1_ROW);

/// Packed int8 convolution weights: `w[g][b][lane]` holds the four bytes of tap group `g` for
/// output channel `16·b + lane` (zero for padding lanes and padding taps).
pub(super) type PackedConv<const G: usize, const NB: usize> = [[[i32; 16]; NB]; G];

/// Packed conv1 weights on the heap.
pub(super) fn pack_conv1(w: &[i8; CONV1_W_LEN]) -> Box<PackedConv<G1, NB1>> {
    let mut p = Box::new([[[0i32; 16]; NB1]; G1]);
    pack_conv1_into(w, &mut p);
    p
}

/// Packs conv1's OIHW weights: group `2·ky + h` holds `kx = 4h .. 4h + 4` (zero past `K`).
pub(super) fn pack_conv1_into(w: &[i8; CONV1_W_LEN], p: &mut PackedConv<G1, NB1>) {
    for oc in 0..C1 {
        for ky in 0..K {
            for h in 0..2 {
                let mut b = [0u8; 4];
                for (j, byte) in b.iter_mut().enumerate() {
                    let kx = 4 * h + j;
                    if kx < K {
                        *byte = w[(oc * K + ky) * K + kx] as u8;
                    }
                }
                p[2 * ky + h][oc / 16][oc % 16] = i32::from_le_bytes(b);
            }
        }
    }
}

/// Packed conv2 weights on the heap.
pub(super) fn pack_conv2(w: &[i8; CONV2_W_LEN]) -> Box<PackedConv<G2, NB2>> {
    let mut p = Box::new([[[0i32; 16]; NB2]; G2]);
    pack_conv2_into(w, &mut p);
    p
}

/// Packs conv2's OIHW weights: group `tap · 5 + g` holds input channels `4g .. 4g + 4` of tap
/// `(ky, kx)`.
pub(super) fn pack_conv2_into(w: &[i8; CONV2_W_LEN], p: &mut PackedConv<G2, NB2>) {
    for (oc, w_oc) in w.chunks_exact(C1 * K * K).enumerate() {
        for tap in 0..K * K {
            for g in 0..C1 / 4 {
                let b: [u8; 4] = core::array::from_fn(|j| w_oc[(4 * g + j) * K * K + tap] as u8);
                p[tap * (C1 / 4) + g][oc / 16][oc % 16] = i32::from_le_bytes(b);
            }
        }
    }
    for row in p.iter_mut() {
        for oc in C2..NB2 * 16 {
            row[oc / 16][oc % 16] = 0;
        }
    }
}

/// Byte offsets, from a window's top-left input, of its four positions and of the tap groups
/// (conv1: the padded CHW input of rows of [`X1_ROW`]).
pub(super) const POS1: [usize; 4] = [0, 1, X1_ROW, X1_ROW + 1];
/// See [`POS1`].
pub(super) const GROUPS1: [usize; G1] = {
    let mut g = [0; G1];
    let mut i = 0;
    while i < G1 {
        g[i] = (i / 2) * X1_ROW + 4 * (i % 2);
        i += 1;
    }
    g
};
/// As [`POS1`] for conv2: the padded HWC input of side [`X2_SIDE`].
pub(super) const POS2: [usize; 4] = [0, C1, X2_SIDE * C1, (X2_SIDE + 1) * C1];
/// See [`POS2`].
pub(super) const GROUPS2: [usize; G2] = {
    let mut g = [0; G2];
    let mut i = 0;
    while i < G2 {
        let (tap, icg) = (i / (C1 / 4), i % (C1 / 4));
        g[i] = ((tap / K) * X2_SIDE + tap % K) * C1 + 4 * icg;
        i += 1;
    }
    g
};
