//! `host bench`: one table of the host-side speed figures.
//!
//! - Batch-1 latency of a whole image through lenet-core, single thread: int8 and f32, each with
//!   the dispatched kernels (`forward`: x86 SIMD where the CPU has it) and the portable ones
//!   (`forward_portable`, what a Cortex-M runs). Median and 90th percentile over real test images.
//! - Throughput with every core: the 10,000 test images through [`crate::eval`].
//! - Training: CPU seconds (all threads) and wall seconds per step of the seed recipe (SGD, batch
//!   128), scaled to an epoch of 469 steps, split into data, forward, backward and optimizer.
//!
//! The MCU figures (instructions per inference, RAM, flash) come from the firmware under QEMU:
//! `scripts/bench.sh` runs both.

use std::time::Instant;

use anyhow::{Context, Result};
use lenet_core::{F32Model, I8Model, Model, ScratchF32, ScratchI8, pixels_to_f32};

use crate::data::{Mnist, PIXELS, Split};
use crate::export::{AlignedBlob, f32_blob};
use crate::model::{Act, FlatParams, LeNet};
use crate::train::{self, Recipe, TrainConfig, Verbosity};
use burn::prelude::Device;

/// Steps in one epoch of the seed recipe (60,000 images, batch 128).
pub const STEPS_PER_EPOCH: usize = 469;

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Test images timed one by one per configuration.
    pub images: usize,
    /// Timed passes over those images (the median is over all of them).
    pub rounds: usize,
    /// Training steps timed (0 skips training).
    pub train_steps: usize,
}

/// Median and 90th percentile of a set of durations, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// Median.
    pub median_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
}

fn latency(mut samples: Vec<f64>) -> Latency {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize] * 1e6;
    Latency {
        median_us: at(0.5),
        p90_us: at(0.9),
    }
}

/// Times `f` once per image, `rounds` times over `images`, after one untimed warm-up pass.
fn time_each(images: &Split, rounds: usize, mut f: impl FnMut(&[u8; PIXELS])) -> Latency {
    for i in 0..images.len() {
        f(images.image(i));
    }
    let mut samples = Vec::with_capacity(images.len() * rounds);
    for _ in 0..rounds {
        for i in 0..images.len() {
            let t = Instant::now();
            f(images.image(i));
            samples.push(t.elapsed().as_secs_f64());
        }
    }
    latency(samples)
}

fn int8_latency(q: &I8Model<'_>, images: &Split, rounds: usize, portable: bool) -> Latency {
    let mut s = Box::new(ScratchI8::new());
    time_each(images, rounds, |px| {
        let l = if portable {
            q.forward_portable(px, &mut s)
        } else {
            q.forward(px, &mut s)
        };
        std::hint::black_box(l);
    })
}

fn f32_latency(m: &F32Model<'_>, images: &Split, rounds: usize, portable: bool) -> Latency {
    let mut s = Box::new(ScratchF32::new());
    time_each(images, rounds, |px| {
        let x = pixels_to_f32(px);
        let l = if portable {
            m.forward_portable(&x, &mut s)
        } else {
            m.forward(&x, &mut s)
        };
        std::hint::black_box(l);
    })
}

/// Images per second over `test` with every core.
fn throughput(test: &Split, run: impl Fn(&Split)) -> f64 {
    run(&test.take(500));
    let t = Instant::now();
    run(test);
    test.len() as f64 / t.elapsed().as_secs_f64()
}

/// Runs the benchmark on the int8 model of `int8_blob` and prints the table.
///
/// The f32 figures use a freshly initialised network (latency does not depend on the values).
///
/// # Errors
/// A blob without the int8 model, or a failed training step.
pub fn run(int8_blob: &[u8], mnist: &Mnist, device: &Device, opts: &BenchOptions) -> Result<()> {
    let m = Model::parse(int8_blob)?;
    let q = m.int8().context("the blob has no int8 model")?;
    let fresh = FlatParams::from_model(&LeNet::new(Act::Relu, device));
    let f32_bytes = AlignedBlob::new(&f32_blob(&fresh)?);
    let fm = Model::parse(f32_bytes.bytes())?;
    let f = fm.f32().context("f32 blob")?;
    let images = mnist.test.take(opts.images);
    let rounds = opts.rounds.max(1);

    println!(
        "lenet-core, batch 1, one thread, {} test images x {rounds} rounds (µs per image):",
        images.len()
    );
    println!(
        "{:<34} {:>10} {:>10}",
        "configuration", "median", "90th pct"
    );
    let rows = [
        (
            "int8, dispatched (forward)",
            int8_latency(q, &images, rounds, false),
        ),
        (
            "int8, portable (forward_portable)",
            int8_latency(q, &images, rounds, true),
        ),
        (
            "f32, dispatched (forward)",
            f32_latency(f, &images, rounds, false),
        ),
        (
            "f32, portable (forward_portable)",
            f32_latency(f, &images, rounds, true),
        ),
    ];
    for (name, l) in rows {
        println!("{name:<34} {:>10.1} {:>10.1}", l.median_us, l.p90_us);
    }
    let threads = rayon::current_num_threads();
    let t8 = throughput(&mnist.test, |s| {
        std::hint::black_box(crate::eval::run_int8(q, s));
    });
    let tf = throughput(&mnist.test, |s| {
        std::hint::black_box(crate::eval::run_f32(f, s));
    });
    println!(
        "throughput, {threads} threads, {} test images: int8 {t8:.0} images/s, f32 {tf:.0} images/s",
        mnist.test.len()
    );

    if opts.train_steps > 0 {
        let mut cfg = TrainConfig::recipe(Recipe::Seed);
        cfg.epochs = 1;
        cfg.train_limit = Some(opts.train_steps * cfg.batch_size);
        cfg.test_limit = Some(1);
        let (_, history) = train::train(&cfg, mnist, device, Verbosity::Quiet)?;
        let h = history.first().context("one epoch")?;
        let steps = opts.train_steps as f64;
        let per_epoch = |x: f64| x / steps * STEPS_PER_EPOCH as f64;
        println!(
            "training, seed recipe (SGD, batch {}), {} steps timed, scaled to {STEPS_PER_EPOCH} steps per epoch:",
            cfg.batch_size, opts.train_steps
        );
        println!(
            "  {:.1} CPU-s per epoch, {:.1} s wall per epoch ({:.0} ms per step)",
            per_epoch(h.phases.cpu),
            per_epoch(h.seconds),
            h.seconds / steps * 1e3
        );
        println!(
            "  wall split: data {:.1} s, forward {:.1} s, backward {:.1} s, optimizer {:.1} s",
            per_epoch(h.phases.data),
            per_epoch(h.phases.forward),
            per_epoch(h.phases.backward),
            per_epoch(h.phases.optimizer)
        );
    }
    Ok(())
}
