//! The Armv7E-M DSP instructions behind [`super::dsp`], and the int8 kernels' hot loops, through
//! stable `asm!`.
//!
//! Compiled only with `cfg(lenet_arm_dsp)`, which `build.rs` sets for Arm targets with the DSP
//! extension (`thumbv7em-*`; `thumbv8m.main-*` with a DSP-capable `target-cpu` or `+dsp`).
//! - `smlad`, `sxtb16`, …: one instruction each, with the exact semantics of its portable twin in
//!   [`super::dsp::portable`].
//! - [`dot_2x2`] (conv) and [`dot_4rows`] (dense): whole inner dot-product loops as one `asm!`
//!   block each, so that all 13 allocatable registers hold operands (LLVM's own allocation of
//!   the same loop spilled an accumulator). Each computes exactly the sums of the portable loop
//!   it stands in for (`conv::dot_2x2`, `dense::dot_4rows`'s `mac_word` loop), which every other
//!   target runs; the outer loops, padding, requantization and pooling stay in the shared Rust.
//!
//! With `kernels::mve` and `kernels::x86`, one of the crate's modules with `unsafe` code.
#![allow(unsafe_code)]

use core::arch::asm;

/// `SMLAD`: `acc + i16(x.lo)·i16(y.lo) + i16(x.hi)·i16(y.hi)`, modulo 2^32 (the exact sum when it
/// fits an `i32`). Twin of [`super::dsp::portable::smlad`].
#[inline(always)]
pub fn smlad(x: u32, y: u32, acc: i32) -> i32 {
    let out: i32;
    // SAFETY: SMLAD reads three registers and writes one: no memory, no stack. It may set the
    // sticky Q flag on overflow, so flags are not declared preserved.
    unsafe {
        asm!(
            "smlad {out}, {x}, {y}, {acc}",
            out = lateout(reg) out,
            x = in(reg) x,
            y = in(reg) y,
            acc = in(reg) acc,
            options(pure, nomem, nostack),
        );
    }
    out
}

/// `SXTB16`: bytes 0 and 2 of `x`, each sign-extended to 16 bits, as the low and high halves.
/// Twin of [`super::dsp::portable::sxtb16`].
#[inline(always)]
pub fn sxtb16(x: u32) -> u32 {
    let out: u32;
    // SAFETY: SXTB16 reads one register and writes one; no memory, no stack, no flags.
    unsafe {
        asm!(
            "sxtb16 {out}, {x}",
            out = lateout(reg) out,
            x = in(reg) x,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    out
}

/// `SXTB16 …, ROR #8`: bytes 1 and 3 of `x`, each sign-extended to 16 bits, as the low and high
/// halves. Twin of [`super::dsp::portable::sxtb16_ror8`].
#[inline(always)]
pub fn sxtb16_ror8(x: u32) -> u32 {
    let out: u32;
    // SAFETY: SXTB16 reads one register and writes one; no memory, no stack, no flags.
    unsafe {
        asm!(
            "sxtb16 {out}, {x}, ror #8",
            out = lateout(reg) out,
            x = in(reg) x,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    out
}

/// `SXTAB16`: `a.lo + i8(x.byte0)` and `a.hi + i8(x.byte2)`, each modulo 2^16, as the low and
/// high halves. Twin of [`super::dsp::portable::sxtab16`].
#[inline(always)]
pub fn sxtab16(a: u32, x: u32) -> u32 {
    let out: u32;
    // SAFETY: SXTAB16 reads two registers and writes one; no memory, no stack, no flags.
    unsafe {
        asm!(
            "sxtab16 {out}, {a}, {x}",
            out = lateout(reg) out,
            a = in(reg) a,
            x = in(reg) x,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    out
}

/// `SXTAB16 …, ROR #8`: `a.lo + i8(x.byte1)` and `a.hi + i8(x.byte3)`, each modulo 2^16, as the
/// low and high halves. Twin of [`super::dsp::portable::sxtab16_ror8`].
#[inline(always)]
pub fn sxtab16_ror8(a: u32, x: u32) -> u32 {
    let out: u32;
    // SAFETY: SXTAB16 reads two registers and writes one; no memory, no stack, no flags.
    unsafe {
        asm!(
            "sxtab16 {out}, {a}, {x}, ror #8",
            out = lateout(reg) out,
            a = in(reg) a,
            x = in(reg) x,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    out
}

/// The largest divisor of `n` that is at most `max` (at least 1): how many copies of a loop body
/// one iteration of an `asm!` loop over `n` words holds, so that no remainder is left.
const fn unroll(n: usize, max: usize) -> usize {
    let mut u = if n < max { n } else { max };
    while u > 1 && !n.is_multiple_of(u) {
        u -= 1;
    }
    if u == 0 { 1 } else { u }
}

/// Armv7E-M version of `conv::dot_2x2` for a conv layer with `IC` input channels: the dot
/// products of two rows of int8 weights with two im2col columns, `[w0·x0, w0·x1, w1·x0, w1·x1]`,
/// exact (the caller bounds them), the same values as `conv::dot_2x2(w0, w1, x0, x1)`.
///
/// - `w`: the two rows, `w0 = w[..ROW]`, `w1 = w[ROW..2·ROW]`, where `ROW = IC·25` rounded up to
///   a multiple of 4 (bytes, OIHW tap order, zero-padded);
/// - `x`: the two columns as `conv::im2col_pair` lays them out, `x0 = x[..ROW/2]`,
///   `x1 = x[ROW/2..ROW]` (i16 pairs: word `2g` holds taps `4g`, `4g + 2`, word `2g + 1` taps
///   `4g + 1`, `4g + 3`).
///
/// One `asm!` loop; per 4 taps (16 MACs) 16 instructions: 2 `LDR` (a word of each row), 2 `LDRD`
/// (two pairs of each column), 4 `SXTB16`, 8 `SMLAD`. The body is repeated `unroll(ROW/4, 25)`
/// times per iteration (all 7 words of conv1, 25 of conv2's 125), so `SUBS`/`BNE` add little.
/// Row 1 and column 1 are addressed at constant offsets (`ROW`, `2·ROW` bytes) from row 0 and
/// column 0, so the loop needs 13 registers, all of them chosen by the compiler (never `r7`,
/// the frame pointer, nor `sp`).
///
/// Never inlined: one copy per layer instead of one per call site halves the firmware's code
/// for about 1.5 % more instructions (the call and the saved registers).
#[cfg(not(lenet_arm_mve))]
#[inline(never)]
pub fn dot_2x2<const IC: usize>(w: &[u8], x: &[u32]) -> [i32; 4] {
    const {
        let row = (IC * 25).next_multiple_of(4);
        // The `LDRD` immediate reaches 1020 bytes: column 1 starts `2·ROW` bytes after column 0.
        assert!(row >= 4 && 2 * row <= 1020);
    }
    let row = (IC * 25).next_multiple_of(4);
    assert!(w.len() >= 2 * row && x.len() >= row);
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    // SAFETY: the body runs `ROW / 4` times in all (`n · unroll`, `n >= 1`, so the count never
    // wraps); run `g` reads bytes `4g..4g + 4` of `w` and of `w[ROW..]` and words `2g`, `2g + 1`
    // of `x` and of `x[ROW/2..]`, all in bounds by the assert above. It writes no memory, does
    // not touch the stack, and changes the flags (`SUBS`; `SMLAD` may set the sticky Q flag).
    unsafe {
        asm!(
            "2:",
            ".rept {unroll}",
            "ldr {v}, [{w}, #{row}]",
            "ldr {u}, [{w}], #4",
            "ldrd {xa}, {xb}, [{x}, #{xoff}]",
            "sxtb16 {u13}, {u}, ror #8",
            "sxtb16 {u}, {u}",
            "sxtb16 {v13}, {v}, ror #8",
            "sxtb16 {v}, {v}",
            "smlad {a1}, {u}, {xa}, {a1}",
            "smlad {a3}, {v}, {xa}, {a3}",
            "smlad {a1}, {u13}, {xb}, {a1}",
            "smlad {a3}, {v13}, {xb}, {a3}",
            "ldrd {xa}, {xb}, [{x}], #8",
            "smlad {a0}, {u}, {xa}, {a0}",
            "smlad {a2}, {v}, {xa}, {a2}",
            "smlad {a0}, {u13}, {xb}, {a0}",
            "smlad {a2}, {v13}, {xb}, {a2}",
            ".endr",
            "subs {n}, {n}, #1",
            "bne 2b",
            w = inout(reg) w.as_ptr() => _,
            x = inout(reg) x.as_ptr() => _,
            n = inout(reg) row / 4 / unroll((IC * 25).div_ceil(4), 25) => _,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            u = out(reg) _,
            v = out(reg) _,
            u13 = out(reg) _,
            v13 = out(reg) _,
            xa = out(reg) _,
            xb = out(reg) _,
            unroll = const unroll((IC * 25).div_ceil(4), 25),
            row = const (IC * 25).next_multiple_of(4),
            xoff = const 2 * (IC * 25).next_multiple_of(4),
            options(readonly, nostack),
        );
    }
    [a0, a1, a2, a3]
}

/// Armv7E-M main loop of `dense::dot_4rows`: for the four rows `r` of `IN` bytes that start
/// `w` (`r_j = w[j·IN..(j + 1)·IN]`), `Σ_{i < done} r_j[i]·(x[i] − in_zp)`, exact (the caller
/// bounds the sums), and `done = 4·⌊IN / 4⌋`, the number of inputs covered (all whole words);
/// `minus_zp` is `-in_zp` in both 16-bit lanes. These are the sums the portable `mac_word` loop
/// of `dot_4rows` accumulates over those inputs; the caller adds the last `IN % 4` inputs.
///
/// One `asm!` loop; per word of 4 inputs (16 MACs) 23 instructions: one `LDR` and two
/// `SXTAB16` (widening the inputs and subtracting the zero point), then per row one `LDR`, two
/// `SXTB16` and two `SMLAD`. The body is repeated `unroll(IN/4, 12)` times per iteration (12 of
/// fc1's 612 words), so `SUBS`/`BNE` add little. Rows 1 and 3 are addressed at the constant
/// offset `IN` from rows 0 and 2, so 13 registers suffice, all chosen by the compiler.
/// Never inlined, like [`dot_2x2`].
#[cfg(not(lenet_arm_mve))]
#[inline(never)]
pub fn dot_4rows<const IN: usize>(w: &[u8], x: &[u8], minus_zp: u32) -> ([i32; 4], usize) {
    // The `LDR` immediate offset reaches 4095 bytes.
    const { assert!(IN <= 4095) };
    let words = IN / 4;
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    if words == 0 {
        return ([a0, a1, a2, a3], 0);
    }
    assert!(w.len() >= 4 * IN && x.len() >= IN);
    let (p0, p2) = (w.as_ptr(), w[2 * IN..].as_ptr());
    // SAFETY: the body runs `IN / 4` times in all (`n · unroll`, `n >= 1`); run `k` reads bytes
    // `4k..4k + 4` of `x` and of each row `r_j` (`4k + 4 <= IN`), all in bounds by the assert
    // above. It writes no memory, does not touch the stack, and changes the flags (`SUBS`;
    // `SMLAD` may set the sticky Q flag).
    unsafe {
        asm!(
            "2:",
            ".rept {unroll}",
            "ldr {x}, [{px}], #4",
            "sxtab16 {x13}, {mzp}, {x}, ror #8",
            "sxtab16 {x}, {mzp}, {x}",
            "ldr {w}, [{p0}, #{inn}]",
            "sxtb16 {wt}, {w}",
            "sxtb16 {w}, {w}, ror #8",
            "smlad {a1}, {wt}, {x}, {a1}",
            "smlad {a1}, {w}, {x13}, {a1}",
            "ldr {w}, [{p0}], #4",
            "sxtb16 {wt}, {w}",
            "sxtb16 {w}, {w}, ror #8",
            "smlad {a0}, {wt}, {x}, {a0}",
            "smlad {a0}, {w}, {x13}, {a0}",
            "ldr {w}, [{p2}, #{inn}]",
            "sxtb16 {wt}, {w}",
            "sxtb16 {w}, {w}, ror #8",
            "smlad {a3}, {wt}, {x}, {a3}",
            "smlad {a3}, {w}, {x13}, {a3}",
            "ldr {w}, [{p2}], #4",
            "sxtb16 {wt}, {w}",
            "sxtb16 {w}, {w}, ror #8",
            "smlad {a2}, {wt}, {x}, {a2}",
            "smlad {a2}, {w}, {x13}, {a2}",
            ".endr",
            "subs {n}, {n}, #1",
            "bne 2b",
            px = inout(reg) x.as_ptr() => _,
            p0 = inout(reg) p0 => _,
            p2 = inout(reg) p2 => _,
            n = inout(reg) words / unroll(IN / 4, 12) => _,
            mzp = in(reg) minus_zp,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            x = out(reg) _,
            x13 = out(reg) _,
            w = out(reg) _,
            wt = out(reg) _,
            unroll = const unroll(IN / 4, 12),
            inn = const IN,
            options(readonly, nostack),
        );
    }
    ([a0, a1, a2, a3], 4 * words)
}

/// Armv7E-M main loop of `dense::dot_2rows_i4`: for the two int4 rows that start `w` (each
/// `i4::row_bytes(IN)` bytes, row 1 right after row 0), `16·Σ_{i < done} r_j[i]·(x[i] − in_zp)`,
/// exact (the caller bounds the sums), and `done = 8·⌊IN / 8⌋`, the inputs covered (all whole
/// groups); `minus_zp` is `-in_zp` in both 16-bit lanes. These are the sums the portable
/// `mac_group_i4` loop of `dot_2rows_i4` accumulates over those inputs.
///
/// One `asm!` loop; per group of 8 inputs (16 MACs) 28 instructions: two `LDR` of the rows'
/// group words, then per half group one `LDR` of 4 inputs and two `SXTAB16` (widening them and
/// subtracting the zero point) and per row an `AND` that isolates 4 nibbles as bytes of 16
/// times the weights (`w & 0xF0F0F0F0`, or `(w << 4) & 0xF0F0F0F0` in the same instruction),
/// two `SXTB16` and two `SMLAD`. 13 registers, all chosen by the compiler. The body is repeated
/// `unroll(IN / 8, 6)` times per iteration. Never inlined, like [`dot_2x2`].
#[inline(never)]
pub fn dot_2rows_i4<const IN: usize>(w: &[u8], x: &[u8], minus_zp: u32) -> ([i32; 2], usize) {
    let rb = crate::blob::i4::row_bytes(IN);
    // The `LDR` immediate offset reaches 4095 bytes: row 1 is `rb` bytes after row 0.
    const { assert!(crate::blob::i4::row_bytes(IN) <= 4095) };
    let groups = IN / 8;
    let (mut a0, mut a1) = (0i32, 0i32);
    if groups == 0 {
        return ([a0, a1], 0);
    }
    assert!(w.len() >= 2 * rb && x.len() >= IN);
    // SAFETY: the body runs `IN / 8` times in all (`n · unroll`, `n >= 1`); run `g` reads bytes
    // `4g..4g + 4` of each row (`4g + 4 <= rb`) and `8g..8g + 8` of `x` (`8g + 8 <= IN`), all in
    // bounds by the assert above. It writes no memory, does not touch the stack, and changes the
    // flags (`SUBS`; `SMLAD` may set the sticky Q flag).
    unsafe {
        asm!(
            "2:",
            ".rept {unroll}",
            "ldr {w1}, [{pw}, #{rb}]",
            "ldr {w0}, [{pw}], #4",
            "ldr {xb}, [{px}], #4",
            "sxtab16 {xa}, {mzp}, {xb}",
            "sxtab16 {xb}, {mzp}, {xb}, ror #8",
            "and {t}, {m}, {w0}, lsl #4",
            "sxtb16 {u}, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a0}, {t}, {xa}, {a0}",
            "smlad {a0}, {u}, {xb}, {a0}",
            "and {t}, {m}, {w1}, lsl #4",
            "sxtb16 {u}, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a1}, {t}, {xa}, {a1}",
            "smlad {a1}, {u}, {xb}, {a1}",
            "ldr {xb}, [{px}], #4",
            "sxtab16 {xa}, {mzp}, {xb}",
            "sxtab16 {xb}, {mzp}, {xb}, ror #8",
            "and {t}, {w0}, {m}",
            "sxtb16 {u}, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a0}, {t}, {xa}, {a0}",
            "smlad {a0}, {u}, {xb}, {a0}",
            "and {t}, {w1}, {m}",
            "sxtb16 {u}, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a1}, {t}, {xa}, {a1}",
            "smlad {a1}, {u}, {xb}, {a1}",
            ".endr",
            "subs {n}, {n}, #1",
            "bne 2b",
            pw = inout(reg) w.as_ptr() => _,
            px = inout(reg) x.as_ptr() => _,
            n = inout(reg) groups / unroll(groups, 6) => _,
            mzp = in(reg) minus_zp,
            m = in(reg) 0xF0F0_F0F0u32,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            w0 = out(reg) _,
            w1 = out(reg) _,
            xa = out(reg) _,
            xb = out(reg) _,
            t = out(reg) _,
            u = out(reg) _,
            unroll = const unroll(IN / 8, 6),
            rb = const crate::blob::i4::row_bytes(IN),
            options(readonly, nostack),
        );
    }
    ([a0, a1], 8 * groups)
}
