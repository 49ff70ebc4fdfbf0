//! Per-layer cost: runs the first golden image through the int8 kernels one layer at a time and
//! prints each layer's instruction count (QEMU `-icount`) next to its MACs. The sum differs
//! from the self-test's figure by the input conversion, argmax and call overhead.
//!
//! `cargo run --release --bin layers`
#![no_std]
#![no_main]

use lenet_core::quant::pixel_to_i8;
use lenet_core::shape::{CLASSES, FC1, FLAT, IN_LEN, POOL1_LEN};
use lenet_firmware::board::{self, Board};
use lenet_firmware::{InferenceMeter, Once, assets, entry, exit, exit_code};

/// Buffers of the four layers' outputs (static, like `ScratchI8`).
struct Buffers {
    input: [i8; IN_LEN],
    pool1: [i8; POOL1_LEN],
    pool2: [i8; FLAT],
    fc1: [i8; FC1],
}

// riscv-rt's `entry` wraps `main` in an undocumented public function.
#[allow(missing_docs)]
#[entry]
fn main() -> ! {
    let mut board = Board::take();
    let (Ok(model), Ok(golden)) = (assets::int8_model(), assets::golden()) else {
        defmt::error!("bad blob or golden file");
        exit(exit_code::BAD_BLOB)
    };
    let Some(record) = golden.records().next() else {
        exit(exit_code::BAD_GOLDEN)
    };
    static BUFFERS: Once<Buffers> = Once::new(Buffers {
        input: [0; IN_LEN],
        pool1: [0; POOL1_LEN],
        pool2: [0; FLAT],
        fc1: [0; FC1],
    });
    let b = defmt::unwrap!(BUFFERS.take());
    let m = &mut board.meter;
    let unit = <board::Meter as InferenceMeter>::UNIT;

    m.start();
    for (q, &p) in b.input.iter_mut().zip(record.image()) {
        *q = pixel_to_i8(p);
    }
    let input = m.stop();
    m.start();
    model.run_conv1(&b.input, &mut b.pool1);
    let conv1 = m.stop();
    m.start();
    model.run_conv2(&b.pool1, &mut b.pool2);
    let conv2 = m.stop();
    m.start();
    model.run_fc1(&b.pool2, &mut b.fc1);
    let fc1 = m.stop();
    let mut logits = [0i8; CLASSES];
    m.start();
    model.run_fc2(&b.fc1, &mut logits);
    let fc2 = m.stop();

    let ok = logits == record.logits();
    defmt::info!("input  {=u32} {=str}", input, unit);
    for (name, cost, macs) in [
        ("conv1", conv1, 392_000u32),
        ("conv2", conv2, 4_900_000),
        ("fc1", fc1, 1_225_000),
        ("fc2", fc2, 5_000),
    ] {
        defmt::info!(
            "{=str} {=u32} {=str} for {=u32} MAC: {=u32}.{=u32:02} per MAC",
            name,
            cost,
            unit,
            macs,
            cost / macs,
            cost % macs * 100 / macs
        );
    }
    defmt::info!(
        "sum {=u32} {=str}; logits {} ({=str})",
        input + conv1 + conv2 + fc1 + fc2,
        unit,
        logits,
        if ok { "match golden 0" } else { "MISMATCH" }
    );
    exit(if ok {
        exit_code::SUCCESS
    } else {
        exit_code::MISMATCH
    })
}
