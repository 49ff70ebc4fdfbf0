//! Forward kernels, f32 and int8.
//!
//! Layouts: activations CHW, convolution weights OIHW, dense weights `[out][in]`.
//! Convolutions are 5x5, stride 1, "same" (zero) padding of 2, and are fused with the
//! activation and the 2x2/2 max-pool that follows them, so full-resolution maps are never stored.
//!
//! The int8 kernels follow TFLM's `ConvPerChannel`/`FullyConnected` pipeline:
//! `acc = Σ w·(x − in_zp) + bias`, [`requantize`](crate::quant::requantize) (single rounding),
//! `+ out_zp`, clamp to `[act_min, act_max]`. Padding contributes nothing to `acc` (it stands for
//! the real value 0). Because requantization is monotonic, the fused kernel takes the max of the
//! four accumulators of a pooling window and requantizes once; this equals pooling the four
//! requantized outputs bit for bit (the `reference` module checks it).

pub mod act;
#[cfg(lenet_arm_dsp)]
mod arm;
#[cfg(lenet_arm_mve)]
mod mve;

/// The int8 kernel family compiled for this target: `"Arm Helium"` (the MVE `VMLADAVA` loops
/// for the convolutions and int8 dense layers, on `cfg(lenet_arm_mve)`), `"Arm DSP"` (the `asm!`
/// loops of `SMLAD`/`SXTB16`, on `cfg(lenet_arm_dsp)`) or `"portable"` (the plain-Rust twins). On
/// x86-64 with `std`, `x86` picks SIMD paths at run time on top of the portable kernels.
pub const TARGET_KERNELS: &str = if cfg!(lenet_arm_mve) {
    "Arm Helium"
} else if cfg!(lenet_arm_dsp) {
    "Arm DSP"
} else {
    "portable"
};
pub mod conv;
pub mod dense;

/// Packed 16-bit multiply-accumulate helpers named after the Armv7E-M DSP instructions the int8
/// kernels are built on (`SMLAD`, `SXTB16`, `SXTAB16`).
///
/// On targets with the DSP extension (`cfg(lenet_arm_dsp)`, set by `build.rs` for
/// `thumbv7em-*` and DSP-capable `thumbv8m.main-*` CPUs) each is one instruction from the private
/// `kernels::arm` module (which also holds the conv and dense inner loops as whole `asm!`
/// blocks); everywhere else (hosts, `thumbv6m`, `thumbv7m`, RISC-V) it is its twin from
/// [`dsp::portable`], with the same exact integer semantics. A "pair" is a `u32` holding two 16-bit lanes, low half first.
pub mod dsp {
    #[cfg(lenet_arm_dsp)]
    pub use super::arm::{smlad, sxtab16, sxtab16_ror8, sxtb16, sxtb16_ror8};
    #[cfg(not(lenet_arm_dsp))]
    pub use portable::{smlad, sxtab16, sxtab16_ror8, sxtb16, sxtb16_ror8};

    /// Both 16-bit lanes of a pair set to `v` (modulo 2^16): the `a` operand of [`sxtab16`] that
    /// adds `v` to every sign-extended byte.
    #[inline(always)]
    pub const fn splat16(v: i32) -> u32 {
        (v as u16 as u32) * 0x0001_0001
    }

    /// Little-endian word of four bytes: byte `i` of the slice is byte `i` of the word (`LDR`).
    #[inline(always)]
    pub fn load_u8x4(bytes: &[u8]) -> u32 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&bytes[..4]);
        u32::from_le_bytes(w)
    }

    /// Portable twins of the DSP instructions, in plain integer arithmetic; compiled on every
    /// target, so host tests can check them against their documented semantics.
    pub mod portable {
        /// Byte `i` (0..4) of `x`, sign-extended.
        #[inline(always)]
        const fn sbyte(x: u32, i: u32) -> i32 {
            (x >> (8 * i)) as u8 as i8 as i32
        }

        /// Two 16-bit lanes, each modulo 2^16, as one pair (low half first).
        #[inline(always)]
        const fn pair(lo: i32, hi: i32) -> u32 {
            (lo as u16 as u32) | ((hi as u16 as u32) << 16)
        }

        /// `SMLAD`: `acc + i16(x.lo)·i16(y.lo) + i16(x.hi)·i16(y.hi)`, modulo 2^32 (the exact
        /// sum when it fits an `i32`).
        #[inline(always)]
        pub const fn smlad(x: u32, y: u32, acc: i32) -> i32 {
            let lo = (x as i16 as i32) * (y as i16 as i32);
            let hi = ((x >> 16) as i16 as i32) * ((y >> 16) as i16 as i32);
            acc.wrapping_add(lo).wrapping_add(hi)
        }

        /// `SXTB16`: bytes 0 and 2 of `x`, each sign-extended to 16 bits, as the low and high
        /// halves.
        #[inline(always)]
        pub const fn sxtb16(x: u32) -> u32 {
            pair(sbyte(x, 0), sbyte(x, 2))
        }

        /// `SXTB16 …, ROR #8`: bytes 1 and 3 of `x`, each sign-extended to 16 bits, as the low
        /// and high halves.
        #[inline(always)]
        pub const fn sxtb16_ror8(x: u32) -> u32 {
            pair(sbyte(x, 1), sbyte(x, 3))
        }

        /// `SXTAB16`: `a.lo + i8(x.byte0)` and `a.hi + i8(x.byte2)`, each modulo 2^16, as the
        /// low and high halves.
        #[inline(always)]
        pub const fn sxtab16(a: u32, x: u32) -> u32 {
            pair(
                (a as i32).wrapping_add(sbyte(x, 0)),
                ((a >> 16) as i32) + sbyte(x, 2),
            )
        }

        /// `SXTAB16 …, ROR #8`: `a.lo + i8(x.byte1)` and `a.hi + i8(x.byte3)`, each modulo
        /// 2^16, as the low and high halves.
        #[inline(always)]
        pub const fn sxtab16_ror8(a: u32, x: u32) -> u32 {
            pair(
                (a as i32).wrapping_add(sbyte(x, 1)),
                ((a >> 16) as i32) + sbyte(x, 3),
            )
        }
    }
}
#[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
pub mod x86;

/// The requantization constants of an int8 layer with `OC` output channels: a Q0.31 multiplier
/// (`> 0`) and a shift (positive = left, in `[-31, 30]`) per output channel, or one pair shared by
/// all of them (a layer quantized per tensor: one weight scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requant<'a, const OC: usize> {
    /// One multiplier and shift per output channel (views into a blob).
    PerChannel {
        /// Multiplier of each output channel.
        multiplier: &'a [i32; OC],
        /// Shift of each output channel.
        shift: &'a [i32; OC],
    },
    /// One multiplier and shift for every output channel.
    PerTensor {
        /// The multiplier.
        multiplier: i32,
        /// The shift.
        shift: i32,
    },
}

impl<'a, const OC: usize> Requant<'a, OC> {
    /// From the two rows of a requantization section: one multiplier and one shift (per tensor)
    /// or `OC` of each (per channel); `None` for any other lengths. Values are not checked.
    pub fn from_rows(multiplier: &'a [i32], shift: &'a [i32]) -> Option<Self> {
        if let ([multiplier], [shift]) = (multiplier, shift) {
            return Some(Self::PerTensor {
                multiplier: *multiplier,
                shift: *shift,
            });
        }
        Some(Self::PerChannel {
            multiplier: multiplier.try_into().ok()?,
            shift: shift.try_into().ok()?,
        })
    }
}

impl<const OC: usize> Requant<'_, OC> {
    /// `(multiplier, shift)` of output channel `oc` (`oc < OC`).
    #[inline(always)]
    pub fn get(&self, oc: usize) -> (i32, i32) {
        match *self {
            Self::PerChannel { multiplier, shift } => (multiplier[oc], shift[oc]),
            Self::PerTensor { multiplier, shift } => (multiplier, shift),
        }
    }

    /// Whether one pair serves every output channel.
    pub fn is_per_tensor(&self) -> bool {
        matches!(self, Self::PerTensor { .. })
    }

    /// The multipliers as stored: `OC` of them, or one.
    pub fn multipliers(&self) -> &[i32] {
        match self {
            Self::PerChannel { multiplier, .. } => &multiplier[..],
            Self::PerTensor { multiplier, .. } => core::slice::from_ref(multiplier),
        }
    }

    /// The shifts as stored: `OC` of them, or one.
    pub fn shifts(&self) -> &[i32] {
        match self {
            Self::PerChannel { shift, .. } => &shift[..],
            Self::PerTensor { shift, .. } => core::slice::from_ref(shift),
        }
    }
}

/// Parameters of one quantized layer with `OC` output channels and `WN` weights, as views into a
/// blob. The weights are int8 (`W = [i8; WN]`, the default) or, for a dense layer, int4 packed
/// in the grouped layout of [`crate::blob::i4`] (`W = [u8; bytes]`); everything else, and the
/// output stage, is the same for both.
#[derive(Debug, Clone, Copy)]
pub struct QuantLayer<'a, const OC: usize, const WN: usize, W: ?Sized + 'a = [i8; WN]> {
    /// Symmetric weights (OIHW or `[out][in]`), in `[-127, 127]` (int8) or `[-7, 7]` (int4), one
    /// scale per output channel or per tensor (as [`QuantLayer::requant`]).
    pub weights: &'a W,
    /// Bias per output channel, scale `s_in · s_w` (of its channel), `|bias| <= 2^30`.
    pub bias: &'a [i32; OC],
    /// Requantization constants, per output channel or one pair for the whole layer.
    pub requant: Requant<'a, OC>,
    /// Zero point of the input tensor, in `[-128, 127]`.
    pub in_zp: i32,
    /// Zero point of the output tensor, in `[-128, 127]`.
    pub out_zp: i32,
    /// Lowest output value (the output zero point for a ReLU layer, -128 otherwise).
    pub act_min: i32,
    /// Highest output value (127).
    pub act_max: i32,
}

impl<const OC: usize, const WN: usize, W: ?Sized> QuantLayer<'_, OC, WN, W> {
    /// Output stage for channel `oc`: requantize `acc`, add the output zero point, clamp.
    #[inline(always)]
    pub fn output(&self, oc: usize, acc: i32) -> i8 {
        let (multiplier, shift) = self.requant.get(oc);
        crate::quant::requantize_to_i8(
            acc,
            multiplier,
            shift,
            self.out_zp,
            self.act_min,
            self.act_max,
        )
    }
}
