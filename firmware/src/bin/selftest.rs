//! Self-test: classifies every embedded golden image, compares the int8 logits bit for bit,
//! prints the instruction count of one inference and the RAM use, checks the optimized kernels
//! against `lenet_core::reference` on pseudo-random cases ([`kernel_check`]), and exits 0 only
//! if everything matched.
#![no_std]
#![no_main]

use lenet_core::kernels;
use lenet_firmware::board::{self, Board};
use lenet_firmware::{
    InferenceMeter, arch, assets, entry, exit, exit_code, kernel_check, ram, selftest,
};

// riscv-rt's `entry` wraps `main` in an undocumented public function.
#[allow(missing_docs)]
#[entry]
fn main() -> ! {
    let mut board = Board::take();
    defmt::info!(
        "lenet self-test on {=str}: {=str} ({=str} int8 kernels)",
        board::NAME,
        arch::core_name(),
        kernels::TARGET_KERNELS
    );

    let model = match assets::int8_model() {
        Ok(model) => model,
        Err(e) => {
            defmt::error!("blob: {}", e);
            exit(exit_code::BAD_BLOB)
        }
    };
    let golden = match assets::golden() {
        Ok(golden) => golden,
        Err(e) => {
            defmt::error!("golden: {}", e);
            exit(exit_code::BAD_GOLDEN)
        }
    };
    defmt::info!(
        "blob {=usize} bytes, {=usize} golden vectors",
        assets::weights().len(),
        golden.len()
    );

    let scratch = lenet_firmware::scratch();
    let report = selftest::run(&model, &golden, scratch, &mut board.meter, &mut board.led);

    let unit = <board::Meter as InferenceMeter>::UNIT;
    defmt::info!("{=str} per inference: {=u32}", unit, report.first);
    defmt::info!(
        "range over {=usize} images: {=u32} .. {=u32} {=str}",
        report.total,
        report.min,
        report.max,
        unit
    );
    let ram = ram::usage();
    defmt::info!(
        "static RAM: {=u32} bytes (.data {=u32}, .bss {=u32}, .uninit {=u32})",
        ram.statics(),
        ram.data,
        ram.bss,
        ram.uninit
    );
    defmt::info!(
        "peak stack: {=u32} bytes (of {=u32})",
        ram.peak_stack,
        ram.stack_region
    );

    // After the RAM figures: the check's buffers are test scaffolding, not inference memory.
    let kernels_ok = kernel_check::run(&model);

    if report.passed() && kernels_ok {
        defmt::info!(
            "PASS: {=usize}/{=usize} golden vectors bit-exact",
            report.passed,
            report.total
        );
        exit(exit_code::SUCCESS)
    } else if report.passed() {
        defmt::error!("FAIL: optimized kernels differ from lenet_core::reference");
        exit(exit_code::MISMATCH)
    } else {
        defmt::error!(
            "FAIL: {=usize}/{=usize} golden vectors bit-exact; first mismatches at {}",
            report.passed,
            report.total,
            report.failures.as_slice()
        );
        exit(exit_code::MISMATCH)
    }
}
