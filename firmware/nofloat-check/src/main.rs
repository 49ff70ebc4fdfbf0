//! Parses a blob and runs the int8 forward pass, nothing else. Built for `thumbv6m-none-eabi`
//! (no FPU), where any float operation would link a soft-float routine (`__aeabi_f*`,
//! `__aeabi_d*`, `__addsf3`, ...); `scripts/check-no-float.sh` fails if one is present.
//!
//! The blob bytes and the image pass through `black_box`, so the optimiser cannot fold the parse
//! away and must keep the whole int8 path.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use lenet_core::aligned::{A16, Aligned};
use lenet_core::{Model, ScratchI8};

static BLOB: Aligned<A16, [u8; 64]> = Aligned::new([0; 64]);

#[entry]
fn main() -> ! {
    let bytes: &[u8] = black_box(&BLOB[..]);
    let model = Model::parse(bytes).ok();
    if let Some(int8) = model.as_ref().and_then(|m| m.int8()) {
        let pixels = black_box([0u8; 784]);
        let prediction = int8.predict(&pixels, &mut ScratchI8::new());
        black_box(prediction.digit);
        black_box(prediction.logits);
    }
    #[cfg(feature = "float-canary")]
    if let Some(f32_model) = model.as_ref().and_then(|m| m.f32()) {
        let image = lenet_core::pixels_to_f32(&black_box([0u8; 784]));
        let prediction = f32_model.predict(&image, &mut lenet_core::ScratchF32::new());
        black_box(prediction.digit);
    }
    loop {
        black_box(());
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
