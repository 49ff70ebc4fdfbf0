//! The Armv8.1-M Helium (M-profile Vector Extension, MVE) int8 loops behind the convolution and
//! dense kernels (dot products, row sums, the convolutions' output stage), through stable `asm!`.
//!
//! Compiled only with `cfg(lenet_arm_mve)`, which `build.rs` sets for `thumbv8m.main-*` targets
//! built with `-C target-feature=+mve` (or a Helium CPU such as `-C target-cpu=cortex-m55`).
//!
//! Each loop multiplies raw int8 bytes: `VMLADAVA.S8` adds the 16 products of two 128-bit
//! vectors of signed bytes to a 32-bit register, and `VADDVA.S8` adds the 16 bytes of one. The
//! zero point of the input is not subtracted inside the loops; the callers use the exact identity
//! `Σ w·(x − in_zp) = Σ w·x − in_zp·Σ w` instead (`conv::conv2d_relu_pool_i8` and
//! `dense::dense_i8` document where `Σ w` comes from). The loops are tail-predicated
//! (`DLSTP`/`LETP`): the last iteration loads and multiplies only the bytes that are left, so a
//! row of any length is read exactly, never past its end.
//!
//! `VMLADAV`/`VADDV` accumulate in even-numbered registers only, so the accumulators are named
//! (`r0`, `r2`, `r4`, `r8`, `r10`, `r12`); `r6` and `r7` are reserved by the compiler. There is
//! no operand class for MVE's `q` registers, so they are named in the templates and declared
//! clobbered through their halves (`q0` = `d0`:`d1`, …).
//!
//! The Cortex-M55 row of the firmware's core matrix checks these loops on every run: the 20
//! golden vectors bit for bit and the random kernel check against `lenet_core::reference`.
//!
//! With `kernels::arm` and `kernels::x86`, one of the crate's modules with `unsafe` code.
#![allow(unsafe_code)]

use core::arch::asm;

/// Pooling maxima of the raw dot products of every output channel with two im2col columns:
/// for each channel `c < 2·pairs`, `m = max(w_c·x0, w_c·x1)` with `w_c = w[c·N..(c + 1)·N]`,
/// `N = IC·25` taps (a 5x5 kernel over `IC` channels) and the columns `x0 = x[..N]`,
/// `x1 = x[S..S + N]`; with `FIRST`, `best[c] = m`, otherwise `best[c] = max(best[c], m)`.
/// The products are raw int8 bytes, exact (`N` is at most 500, so `|w_c·x| <= 500·127·128`).
///
/// The column stride `S` is [`col_stride`]`(N)`: `N`, or 32 for rows of at most 32 taps
/// (conv1's 25), whose columns the caller zero-pads to 32 bytes.
///
/// One `asm!` block for all channels. Long rows: per pair of channels one tail-predicated loop
/// (per 16 taps 9 instructions for 64 MACs: 4 `VLDRB`, 4 `VMLADAVA` and the `LETP`), then about
/// 20 instructions to reset the pointers, take the maxima and update `best`. Short rows
/// (`16 < N <= 32`): both columns stay in `q4`-`q7` for all channels, and a pair of rows is 4
/// `VLDRB` (the second half of each predicated to its `N − 16` bytes, so no row is read past
/// its end) and 8 `VMLADAV`.
#[inline(never)]
pub fn conv_pairs<const IC: usize, const FIRST: bool>(w: &[u8], x: &[u8], best: &mut [i32]) {
    const {
        // `ADD`/`SUB` immediates reach 4095; `⌈N / 16⌉` runs step each pointer `16·⌈N / 16⌉`.
        assert!(IC >= 1 && 2 * IC * 25 <= 4095);
    }
    let n = IC * 25;
    let pairs = best.len() / 2;
    assert!(w.len() >= 2 * pairs * n && x.len() >= col_stride(n) + n);
    if n <= 32 {
        // The short rows' column halves are read whole: the padding must be there.
        assert!(x.len() >= 64);
    }
    if pairs == 0 {
        return;
    }
    // SAFETY: long rows: pair `p` runs `DLSTP.8` over `N` bytes: `⌈N / 16⌉` runs, the last
    // predicated to the bytes left, read bytes `0..N` of rows `2p` and `2p + 1` of `w` and of
    // both columns of `x`, and nothing else (every loaded pointer then moves on by
    // `16·⌈N / 16⌉`, and is moved back or on to the next rows by constants). Short rows: bytes
    // `0..64` of `x` (asserted above), and per pair bytes `0..16` and, predicated,
    // `16..N` of both rows. `best` is read and written at words `2p`, `2p + 1`,
    // `2p < best.len()`. The stack is not touched; `LR`, `q0`-`q7`, `VPR` and the flags are
    // clobbered.
    unsafe {
        asm!(
            ".if {short}",
            "vldrb.u8 q4, [{x}]",
            "vldrb.u8 q5, [{x}, #16]",
            "vldrb.u8 q6, [{x}, #32]",
            "vldrb.u8 q7, [{x}, #48]",
            "movs {x1}, #{n} - 16",
            "vctp.8 {x1}",
            ".endif",
            "3:",
            ".if {short}",
            "vldrb.u8 q0, [{w}]",
            "vldrb.u8 q2, [{w}, #{n}]",
            "vpstt",
            "vldrbt.u8 q1, [{w}, #16]",
            "vldrbt.u8 q3, [{w}, #{n} + 16]",
            "vmladav.s8 r0, q0, q4",
            "vmladava.s8 r0, q1, q5",
            "vmladav.s8 r2, q0, q6",
            "vmladava.s8 r2, q1, q7",
            "vmladav.s8 r4, q2, q4",
            "vmladava.s8 r4, q3, q5",
            "vmladav.s8 r8, q2, q6",
            "vmladava.s8 r8, q3, q7",
            "add.w {w}, {w}, #2 * {n}",
            ".else",
            "movs r0, #0",
            "movs r2, #0",
            "movs r4, #0",
            "mov.w r8, #0",
            "add.w {w1}, {w}, #{n}",
            "movw {x1}, #{n}",
            "dlstp.8 lr, {x1}",
            "add.w {x1}, {x}, #{n}",
            "2:",
            "vldrb.u8 q0, [{w}], #16",
            "vldrb.u8 q1, [{w1}], #16",
            "vldrb.u8 q2, [{x}], #16",
            "vldrb.u8 q3, [{x1}], #16",
            "vmladava.s8 r0, q0, q2",
            "vmladava.s8 r2, q0, q3",
            "vmladava.s8 r4, q1, q2",
            "vmladava.s8 r8, q1, q3",
            "letp lr, 2b",
            "add.w {w}, {w}, #{wnext}",
            "sub.w {x}, {x}, #{step}",
            ".endif",
            "cmp r0, r2",
            "csel r0, r0, r2, gt",
            "cmp r4, r8",
            "csel r4, r4, r8, gt",
            ".if {first}",
            "strd r0, r4, [{best}], #8",
            ".else",
            "ldrd {w1}, {x1}, [{best}]",
            "cmp r0, {w1}",
            "csel r0, r0, {w1}, gt",
            "cmp r4, {x1}",
            "csel r4, r4, {x1}, gt",
            "strd r0, r4, [{best}], #8",
            ".endif",
            "subs {k}, {k}, #1",
            "bne 3b",
            w = inout(reg) w.as_ptr() => _,
            x = inout(reg) x.as_ptr() => _,
            best = inout(reg) best.as_mut_ptr() => _,
            k = inout(reg) pairs => _,
            w1 = out(reg) _,
            x1 = out(reg) _,
            out("r0") _,
            out("r2") _,
            out("r4") _,
            out("r8") _,
            out("lr") _,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _,
            out("d4") _, out("d5") _, out("d6") _, out("d7") _,
            out("d8") _, out("d9") _, out("d10") _, out("d11") _,
            out("d12") _, out("d13") _, out("d14") _, out("d15") _,
            n = const IC * 25,
            step = const (IC * 25).next_multiple_of(16),
            wnext = const 2 * IC * 25 - (IC * 25).next_multiple_of(16),
            short = const (IC * 25 > 16 && IC * 25 <= 32) as u32,
            first = const FIRST as u32,
            options(nostack),
        );
    }
}

/// The distance between the two im2col columns [`conv_pairs`] reads for rows of `n` taps: 32
/// for `16 < n <= 32` (each column zero-padded to two whole vectors), `n` otherwise.
pub const fn col_stride(n: usize) -> usize {
    if n > 16 && n <= 32 { 32 } else { n }
}

/// `Σ w`: the sum of a row of int8 weights (raw bytes), exact for rows of up to 2^24 bytes.
///
/// One tail-predicated loop; per 16 bytes 3 instructions: `VLDRB`, `VADDVA` and the `LETP`.
#[inline(never)]
pub fn sum(w: &[u8]) -> i32 {
    let mut s = 0i32;
    if w.is_empty() {
        return 0;
    }
    // SAFETY: `⌈len / 16⌉` predicated runs read bytes `0..len` of `w` and nothing else; no
    // memory is written, the stack is not touched, `LR` and `q0` are declared clobbered.
    unsafe {
        asm!(
            "dlstp.8 lr, {n}",
            "2:",
            "vldrb.u8 q0, [{w}], #16",
            "vaddva.s8 r0, q0",
            "letp lr, 2b",
            n = in(reg) w.len(),
            w = inout(reg) w.as_ptr() => _,
            inout("r0") s,
            out("lr") _,
            out("d0") _, out("d1") _,
            options(readonly, nostack),
        );
    }
    s
}

/// `([w0·x, w1·x, w2·x], [Σ w0, Σ w1, Σ w2])`: the dot products of three rows of int8
/// weights with a vector of raw int8 inputs, and the sums of the three rows, all four slices
/// `n = x.len()` bytes long, exact (`n` is at most 2,450).
///
/// One tail-predicated loop; per 16 inputs 11 instructions for 48 MACs: 4 `VLDRB`, 3
/// `VMLADAVA`, 3 `VADDVA` and the `LETP`. It needs every general register the compiler lends
/// to `asm!` (12: six even accumulators, four pointers, the count and `LR`).
#[inline(never)]
pub fn dot_3rows_sums(w0: &[u8], w1: &[u8], w2: &[u8], x: &[u8]) -> ([i32; 3], [i32; 3]) {
    let n = x.len();
    assert!(w0.len() == n && w1.len() == n && w2.len() == n);
    let (mut d0, mut d1, mut d2, mut s0, mut s1, mut s2) = (0i32, 0i32, 0i32, 0i32, 0i32, 0i32);
    if n == 0 {
        return ([0; 3], [0; 3]);
    }
    // SAFETY: `DLSTP.8` runs the body `⌈n / 16⌉` times and predicates the last run to the
    // `n mod 16` bytes that are left (all 16 otherwise), so the loads read bytes `0..n` of each
    // slice and nothing else. No memory is written and the stack is not touched; `LR` (the
    // loop counter) and `q0`-`q3` are declared clobbered.
    unsafe {
        asm!(
            "dlstp.8 lr, {n}",
            "2:",
            "vldrb.u8 q0, [{x}], #16",
            "vldrb.u8 q1, [{w0}], #16",
            "vldrb.u8 q2, [{w1}], #16",
            "vldrb.u8 q3, [{w2}], #16",
            "vmladava.s8 r0, q1, q0",
            "vaddva.s8 r2, q1",
            "vmladava.s8 r4, q2, q0",
            "vaddva.s8 r8, q2",
            "vmladava.s8 r10, q3, q0",
            "vaddva.s8 r12, q3",
            "letp lr, 2b",
            n = in(reg) n,
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w0.as_ptr() => _,
            w1 = inout(reg) w1.as_ptr() => _,
            w2 = inout(reg) w2.as_ptr() => _,
            inout("r0") d0,
            inout("r2") s0,
            inout("r4") d1,
            inout("r8") s1,
            inout("r10") d2,
            inout("r12") s2,
            out("lr") _,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _,
            out("d4") _, out("d5") _, out("d6") _, out("d7") _,
            options(readonly, nostack),
        );
    }
    ([d0, d1, d2], [s0, s1, s2])
}

/// The output stage of `n = acc.len()` channels of one position, four channels per vector:
/// `out[c·stride] = clamp(r + out_zp, lo, hi)` with
/// `r = (⌊(acc[c] + bias[c])·mult[c] / 2^32⌋ + 2^(s−1)) >> s`, `s = −right[c]`, which is
/// [`crate::quant::requantize`] of `acc[c] + bias[c]` by `mult[c]` and a shift `right[c] − 1`
/// whenever that shift is at most −2 (the path of `requantize` for multipliers below 1/4: total
/// shift `t = 31 − shift > 32`, `s = t − 32`), the only case the caller sends here.
///
/// - `acc + bias` must not overflow; `right[c]` in `[−30, −1]`; `lo <= hi` in `[−128, 127]`;
/// - `out` holds the output byte of channel 0, and `(n − 1)·stride < out.len()`.
///
/// One tail-predicated loop over the channels (`DLSTP.32`), 13 instructions per 4 outputs:
/// `VMULH.S32` is the high word of the 64-bit product, `VRSHL.S32` by `−s` the rounding right
/// shift `(x + 2^(s−1)) >> s` (taken without overflow), the sum with `out_zp` cannot overflow
/// (`|r| <= 2^29`), `VMAX`/`VMIN` clamp, and `VSTRB.32` stores the low byte of each lane (the
/// value itself, after the clamp) at its offset `c·stride`.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn requant_strided(
    acc: &[i32],
    bias: &[i32],
    mult: &[i32],
    right: &[i32],
    out_zp: i32,
    (lo, hi): (i32, i32),
    out: &mut [i8],
    stride: usize,
) {
    let n = acc.len();
    assert!(bias.len() == n && mult.len() == n && right.len() == n);
    if n == 0 {
        return;
    }
    assert!((n - 1) * stride < out.len());
    let offsets: [u32; 4] = core::array::from_fn(|j| (j * stride) as u32);
    // SAFETY: `DLSTP.32` runs the body `⌈n / 4⌉` times, the last predicated to the lanes left,
    // so the loads read words `0..n` of `acc`, `bias`, `mult` and `right` and nothing else, and
    // the scatter store writes bytes `c·stride < out.len()` of `out` for `c < n` only. The
    // stack is not touched; `LR` and `q0`-`q3`, `q5`-`q7` are declared clobbered.
    unsafe {
        asm!(
            "vldrw.u32 q5, [{offsets}]",
            "vdup.32 q6, {lo}",
            "vdup.32 q7, {hi}",
            "dlstp.32 lr, {n}",
            "2:",
            "vldrw.u32 q0, [{acc}], #16",
            "vldrw.u32 q1, [{bias}], #16",
            "vadd.i32 q0, q0, q1",
            "vldrw.u32 q2, [{mult}], #16",
            "vmulh.s32 q0, q0, q2",
            "vldrw.u32 q3, [{right}], #16",
            "vrshl.s32 q0, q0, q3",
            "vadd.i32 q0, q0, {zp}",
            "vmax.s32 q0, q0, q6",
            "vmin.s32 q0, q0, q7",
            "vstrb.32 q0, [{out}, q5]",
            "vadd.i32 q5, q5, {step}",
            "letp lr, 2b",
            offsets = in(reg) offsets.as_ptr(),
            lo = in(reg) lo,
            hi = in(reg) hi,
            n = in(reg) n,
            acc = inout(reg) acc.as_ptr() => _,
            bias = inout(reg) bias.as_ptr() => _,
            mult = inout(reg) mult.as_ptr() => _,
            right = inout(reg) right.as_ptr() => _,
            zp = in(reg) out_zp,
            out = in(reg) out.as_mut_ptr(),
            step = in(reg) 4 * stride,
            out("lr") _,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _,
            out("d4") _, out("d5") _, out("d6") _, out("d7") _,
            out("d10") _, out("d11") _, out("d12") _, out("d13") _,
            out("d14") _, out("d15") _,
            options(nostack),
        );
    }
}
