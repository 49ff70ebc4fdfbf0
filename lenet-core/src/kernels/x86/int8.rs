//! The int8 forward pass over either kernel family: input layouts, the four layers in turn,
//! the per-model output constants, and the checks that make the fast paths exact.

use super::avx2::{dense_i8_avx2, window_q_avx2};
use super::detect::{avx2_available, int8_available};
use super::pack::{
    G1, G2, GROUPS1, GROUPS2, NB1, NB2, POS1, POS2, PackedConv, X1_ROW, X1_ROWS, X2_SIDE,
    pack_conv1_into, pack_conv2_into,
};
use super::requant::{OutRange, Requant16, requant_blocks};
use super::views::{I8Buffers, I8Isa, I8Layers};
use super::vnni::{dense_i8_vnni, window_q_vnni};
use crate::kernels::QuantLayer;
use crate::quant::pixel_to_i8;
use crate::shape::{C1, C2, CLASSES, FC1, FLAT, IN_LEN, IN_W, P1, P2, PAD};

/// Everything the VNNI kernels need besides the layers' own views: the conv output stages.
pub(super) struct I8Prep {
    conv1_rq: [Requant16; NB1],
    conv2_rq: [Requant16; NB2],
    out1: OutRange,
    out2: OutRange,
}

impl I8Prep {
    /// The output constants of `l`'s convolutions.
    pub(super) fn new(l: &I8Layers<'_>) -> Self {
        Self {
            conv1_rq: requant_blocks(&l.conv1),
            conv2_rq: requant_blocks(&l.conv2),
            out1: OutRange::of(&l.conv1),
            out2: OutRange::of(&l.conv2),
        }
    }
}

/// Whether the fast paths reproduce the portable kernels for these layers (see the module
/// docs).
pub(super) fn i8_eligible(m: &I8Layers<'_>) -> bool {
    fn lo<const OC: usize, const WN: usize>(l: &QuantLayer<'_, OC, WN>) -> i32 {
        l.act_min.max(-128)
    }
    fn ok_range<const OC: usize, const WN: usize>(l: &QuantLayer<'_, OC, WN>) -> bool {
        l.act_min.max(-128) <= l.act_max.min(127)
    }
    // The conv output stage adds the bias in wrapping vector arithmetic: keep `max + bias`
    // inside i32 as the portable kernel does (|acc| < 2^24, |bias| <= 2^30 in a parsed blob).
    fn small_bias(b: &[i32]) -> bool {
        b.iter().all(|&v| v.unsigned_abs() <= 1 << 30)
    }
    let chain = m.conv1.in_zp == -128
        && (-128..=lo(&m.conv1)).contains(&m.conv2.in_zp)
        && (-128..=lo(&m.conv2)).contains(&m.fc1.in_zp)
        && (-128..=lo(&m.fc1)).contains(&m.fc2.in_zp);
    chain
        && ok_range(&m.conv1)
        && ok_range(&m.conv2)
        && ok_range(&m.fc1)
        && ok_range(&m.fc2)
        && small_bias(m.conv1.bias)
        && small_bias(m.conv2.bias)
}

/// The fastest int8 kernels this CPU can run for `m`, if any.
pub(super) fn isa_for(m: &I8Layers<'_>) -> Option<I8Isa> {
    if !i8_eligible(m) {
        None
    } else if int8_available() {
        Some(I8Isa::Avx512Vnni)
    } else if avx2_available() {
        Some(I8Isa::Avx2)
    } else {
        None
    }
}

/// The inputs of one int8 forward pass on the fast kernels.
#[derive(Clone, Copy)]
pub(super) struct I8Call<'a, 'm> {
    pub(super) m: &'a I8Layers<'m>,
    pub(super) prep: &'a I8Prep,
    pub(super) w1: &'a PackedConv<G1, NB1>,
    pub(super) w2: &'a PackedConv<G2, NB2>,
    pub(super) pixels: &'a [u8; IN_LEN],
    /// Stop after the convolutions (the logits are then zero).
    pub(super) convs_only: bool,
}

/// Runs [`forward_i8_with`] with `isa`'s kernels.
///
/// # Safety
/// The CPU has `isa`'s features.
pub(super) unsafe fn run_i8(isa: I8Isa, call: I8Call<'_, '_>, out: I8Buffers<'_>) -> [i8; CLASSES] {
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn vnni(call: I8Call<'_, '_>, out: I8Buffers<'_>) -> [i8; CLASSES] {
        // SAFETY: this function is compiled for, and only called with, `Avx512Vnni`'s features.
        unsafe { forward_i8_with::<true>(call, out) }
    }
    #[target_feature(enable = "avx2")]
    fn avx2(call: I8Call<'_, '_>, out: I8Buffers<'_>) -> [i8; CLASSES] {
        // SAFETY: this function is compiled for, and only called with, `Avx2`'s features.
        unsafe { forward_i8_with::<false>(call, out) }
    }
    // SAFETY: the caller guarantees `isa`'s features.
    unsafe {
        match isa {
            I8Isa::Avx512Vnni => vnni(call, out),
            I8Isa::Avx2 => avx2(call, out),
        }
    }
}

/// conv1 + ReLU + pool, then conv2 + ReLU + pool, then both dense layers, with the window and
/// dense kernels of AVX-512 VNNI (`VNNI`) or of AVX2 (`!VNNI`). Inlined into a caller compiled
/// for those features.
///
/// # Safety
/// The CPU has AVX-512 F, BW and VNNI if `VNNI`, AVX2 otherwise.
#[inline(always)]
unsafe fn forward_i8_with<const VNNI: bool>(
    call: I8Call<'_, '_>,
    out: I8Buffers<'_>,
) -> [i8; CLASSES] {
    let I8Call {
        m,
        prep,
        w1,
        w2,
        pixels,
        convs_only,
    } = call;
    let I8Buffers {
        input,
        pool1,
        pool2,
        fc1,
    } = out;
    // conv1 input: `x − in_zp = pixel` (in_zp = −128), zero padded.
    let mut x1 = [0u8; X1_ROWS * X1_ROW];
    for (row, src) in x1[PAD * X1_ROW..]
        .chunks_exact_mut(X1_ROW)
        .zip(pixels.chunks_exact(IN_W))
    {
        row[PAD..PAD + IN_W].copy_from_slice(src);
    }
    for (q, &p) in input.iter_mut().zip(pixels) {
        *q = pixel_to_i8(p);
    }
    // conv2 input: HWC, `x − in_zp` as bytes, zero padded.
    let mut x2 = [0u8; X2_SIDE * X2_SIDE * C1];
    let zp2 = m.conv2.in_zp;
    for py in 0..P1 {
        for px in 0..P1 {
            let base = 2 * py * X1_ROW + 2 * px;
            // SAFETY: the caller guarantees the features of the chosen kernel.
            let q = unsafe {
                if VNNI {
                    window_q_vnni(&x1, base, &POS1, &GROUPS1, w1, &prep.conv1_rq, prep.out1)
                } else {
                    window_q_avx2(&x1, base, &POS1, &GROUPS1, w1, &m.conv1)
                }
            };
            let at = ((py + PAD) * X2_SIDE + px + PAD) * C1;
            for (oc, &q) in q.as_flattened().iter().enumerate().take(C1) {
                pool1[(oc * P1 + py) * P1 + px] = q as i8;
                x2[at + oc] = (q - zp2) as u8;
            }
        }
    }
    // conv2, writing fc1's input `x − in_zp` (CHW flatten order) as it goes.
    let mut x3 = [0u8; FLAT];
    let zp3 = m.fc1.in_zp;
    for py in 0..P2 {
        for px in 0..P2 {
            let base = (2 * py * X2_SIDE + 2 * px) * C1;
            // SAFETY: the caller guarantees the features of the chosen kernel.
            let q = unsafe {
                if VNNI {
                    window_q_vnni(&x2, base, &POS2, &GROUPS2, w2, &prep.conv2_rq, prep.out2)
                } else {
                    window_q_avx2(&x2, base, &POS2, &GROUPS2, w2, &m.conv2)
                }
            };
            for (oc, &q) in q.as_flattened().iter().enumerate().take(C2) {
                let i = (oc * P2 + py) * P2 + px;
                pool2[i] = q as i8;
                x3[i] = (q - zp3) as u8;
            }
        }
    }
    if convs_only {
        return [0; CLASSES];
    }
    let zp4 = m.fc2.in_zp;
    let mut logits = [0i8; CLASSES];
    // SAFETY: the caller guarantees the features of the chosen kernel.
    unsafe {
        if VNNI {
            dense_i8_vnni(&x3, &m.fc1, fc1);
        } else {
            dense_i8_avx2(&x3, &m.fc1, fc1);
        }
        let x4: [u8; FC1] = core::array::from_fn(|i| (i32::from(fc1[i]) - zp4) as u8);
        if VNNI {
            dense_i8_vnni(&x4, &m.fc2, &mut logits);
        } else {
            dense_i8_avx2(&x4, &m.fc2, &mut logits);
        }
    }
    logits
}

/// Repacks `m`'s convolution weights on the stack (33,280 B) and runs `isa`'s kernels.
///
/// # Safety
/// The CPU has `isa`'s features.
pub(super) unsafe fn repack_and_run(
    isa: I8Isa,
    m: &I8Layers<'_>,
    pixels: &[u8; IN_LEN],
    out: I8Buffers<'_>,
) -> [i8; CLASSES] {
    let prep = I8Prep::new(m);
    let mut w1 = [[[0i32; 16]; NB1]; G1];
    pack_conv1_into(m.conv1.weights, &mut w1);
    let mut w2 = [[[0i32; 16]; NB2]; G2];
    pack_conv2_into(m.conv2.weights, &mut w2);
    let call = I8Call {
        m,
        prep: &prep,
        w1: &w1,
        w2: &w2,
        pixels,
        convs_only: false,
    };
    // SAFETY: the caller guarantees `isa`'s features.
    unsafe { run_i8(isa, call, out) }
}
