//! Whole-image latency of the int8 and f32 forward passes, portable kernels vs the x86-64
//! AVX-512 and AVX2 paths (`kernels::x86`, `model::PackedI8`), a per-layer breakdown of the portable kernels, and all-core batch
//! throughput.
//!
//! ```sh
//! cargo bench -p lenet-core --bench forward               # everything
//! cargo bench -p lenet-core --bench forward -- int8/      # one group
//! LENET_BENCH_THROUGHPUT=0 cargo bench -p lenet-core --bench forward   # skip throughput
//! ```
//!
//! int8 uses the committed blob `tests/fixtures/lenet-int8.blob`; f32 uses a blob of random
//! weights made here with `BlobWriter` (latency does not depend on the values). Results and
//! method: `docs/performance-host.md`.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use lenet_core::aligned::AlignedBytes;
use lenet_core::blob::{Activation, BlobWriter, SectionId};
use lenet_core::golden::Golden;
use lenet_core::kernels::QuantLayer;
use lenet_core::kernels::conv::{conv2d_act_pool_f32, conv2d_relu_pool_i8};
use lenet_core::kernels::dense::{dense_f32, dense_i8};
use lenet_core::shape::{C1, C2, CONV1_W_LEN, CONV2_W_LEN, FLAT, IN_LEN, P1, POOL1_LEN};
use lenet_core::{F32Model, I8Model, Model, ScratchF32, ScratchI8};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Bytes copied into aligned storage (blobs must start 4-byte aligned), kept for the whole run.
fn aligned(bytes: &[u8]) -> &'static [u8] {
    Box::leak(Box::new(AlignedBytes::new(bytes))).bytes()
}

fn int8_model() -> I8Model<'static> {
    let blob = aligned(&fixture("lenet-int8.blob"));
    *Model::parse(blob).unwrap().int8().unwrap()
}

fn f32_model() -> F32Model<'static> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut w = BlobWriter::new(Activation::Relu);
    for &s in &SectionId::F32_SET {
        let data: Vec<f32> = (0..s.elements())
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
            })
            .collect();
        w.add_f32(s, &data).unwrap();
    }
    let blob = aligned(&w.finish().unwrap());
    *Model::parse(blob).unwrap().f32().unwrap()
}

fn images() -> Vec<[u8; IN_LEN]> {
    Golden::parse(&fixture("golden.bin"))
        .expect("whole records")
        .records()
        .map(|r| *r.image())
        .collect()
}

fn int8(c: &mut Criterion) {
    let q = int8_model();
    let img = images()[0];
    let mut s = ScratchI8::new();
    let mut g = c.benchmark_group("int8");
    g.bench_function("portable", |b| {
        b.iter(|| q.forward_portable(black_box(&img), &mut s))
    });
    g.bench_function("forward", |b| b.iter(|| q.forward(black_box(&img), &mut s)));
    #[cfg(target_arch = "x86_64")]
    {
        use lenet_core::kernels::x86::{self, I8Isa};
        let packed = lenet_core::model::PackedI8::new(&q);
        g.bench_function("packed", |b| {
            b.iter(|| packed.forward(black_box(&img), &mut s))
        });
        g.bench_function("packed-convs-only", |b| {
            b.iter(|| packed.forward_convs(black_box(&img), &mut s))
        });
        if I8Isa::Avx2.available() {
            let layers = q.x86_layers().unwrap();
            g.bench_function("avx2", |b| {
                b.iter(|| {
                    x86::forward_i8_isa(I8Isa::Avx2, &layers, black_box(&img), s.x86_buffers())
                })
            });
        }
    }
    g.finish();
}

fn f32(c: &mut Criterion) {
    let f = f32_model();
    let img = lenet_core::pixels_to_f32(&images()[0]);
    let mut s = ScratchF32::new();
    let mut g = c.benchmark_group("f32");
    g.bench_function("portable", |b| {
        b.iter(|| f.forward_portable(black_box(&img), &mut s))
    });
    g.bench_function("forward", |b| b.iter(|| f.forward(black_box(&img), &mut s)));
    #[cfg(target_arch = "x86_64")]
    {
        let layers = f.x86_layers();
        g.bench_function("convs-only", |b| {
            b.iter(|| {
                lenet_core::kernels::x86::forward_f32_convs(
                    &layers,
                    black_box(&img),
                    s.x86_buffers(),
                )
            })
        });
    }
    g.finish();
}

/// The portable kernels one layer at a time (where the time goes before acceleration).
fn layers(c: &mut Criterion) {
    let q = int8_model();
    let mut s = ScratchI8::new();
    let img = images()[0];
    q.forward_portable(&img, &mut s);
    let input: [i8; IN_LEN] = img.map(lenet_core::quant::pixel_to_i8);
    let (pool1, pool2, fc1) = (*s.pool1(), *s.pool2(), *s.fc1());
    let mut g = c.benchmark_group("layers-int8-portable");
    let mut o1 = [0i8; POOL1_LEN];
    g.bench_function("conv1", |b| {
        b.iter(|| {
            conv2d_relu_pool_i8::<1, C1, 28, 28, IN_LEN, CONV1_W_LEN, POOL1_LEN>(
                black_box(&input),
                &q.conv1,
                &mut o1,
            )
        })
    });
    let mut o2 = [0i8; FLAT];
    g.bench_function("conv2", |b| {
        b.iter(|| {
            conv2d_relu_pool_i8::<C1, C2, P1, P1, POOL1_LEN, CONV2_W_LEN, FLAT>(
                black_box(&pool1),
                &q.conv2,
                &mut o2,
            )
        })
    });
    let mut o3 = [0i8; 500];
    g.bench_function("fc1", |b| {
        b.iter(|| dense_i8(black_box(&pool2), q.fc1.int8().unwrap(), &mut o3))
    });
    let mut o4 = [0i8; 10];
    let fc2: &QuantLayer<'_, 10, 5000> = &q.fc2;
    g.bench_function("fc2", |b| {
        b.iter(|| dense_i8(black_box(&fc1), fc2, &mut o4))
    });
    g.finish();

    let f = f32_model();
    let mut s = ScratchF32::new();
    let x = lenet_core::pixels_to_f32(&img);
    f.forward_portable(&x, &mut s);
    let (pool1, pool2, fc1) = (*s.pool1(), *s.pool2(), *s.fc1());
    let mut g = c.benchmark_group("layers-f32-portable");
    let mut o1 = [0f32; POOL1_LEN];
    g.bench_function("conv1", |b| {
        b.iter(|| {
            conv2d_act_pool_f32::<1, C1, 28, 28, IN_LEN, CONV1_W_LEN, POOL1_LEN>(
                black_box(&x),
                f.conv1_w,
                f.conv1_b,
                Activation::Relu,
                &mut o1,
            )
        })
    });
    let mut o2 = [0f32; FLAT];
    g.bench_function("conv2", |b| {
        b.iter(|| {
            conv2d_act_pool_f32::<C1, C2, P1, P1, POOL1_LEN, CONV2_W_LEN, FLAT>(
                black_box(&pool1),
                f.conv2_w,
                f.conv2_b,
                Activation::Relu,
                &mut o2,
            )
        })
    });
    let mut o3 = [0f32; 500];
    g.bench_function("fc1", |b| {
        b.iter(|| {
            dense_f32(
                black_box(&pool2),
                f.fc1_w,
                f.fc1_b,
                Some(Activation::Relu),
                &mut o3,
            )
        })
    });
    let mut o4 = [0f32; 10];
    g.bench_function("fc2", |b| {
        b.iter(|| dense_f32(black_box(&fc1), f.fc2_w, f.fc2_b, None, &mut o4))
    });
    g.finish();
}

criterion_group!(benches, int8, f32, layers);

/// Images per second over `n` images on every core (`std::thread::scope`, one scratch per
/// thread, images split into contiguous chunks).
fn throughput<T: Sync, S>(
    name: &str,
    n: usize,
    items: &[T],
    scratch: impl Fn() -> S + Sync,
    run: impl Fn(&T, &mut S) + Sync,
) {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let mut rates = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        std::thread::scope(|sc| {
            for t in 0..threads {
                let (run, scratch) = (&run, &scratch);
                sc.spawn(move || {
                    let mut s = scratch();
                    for i in (t * n / threads)..((t + 1) * n / threads) {
                        run(&items[i % items.len()], &mut s);
                    }
                });
            }
        });
        rates.push(n as f64 / t0.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "throughput {name:<16} {threads} threads, {n} images: median {:.0} images/s (min {:.0}, max {:.0})",
        rates[2], rates[0], rates[4]
    );
}

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    if std::env::var("LENET_BENCH_THROUGHPUT").is_ok_and(|v| v == "0") {
        return;
    }
    let n = 10_000;
    let q = int8_model();
    let imgs = images();
    throughput("int8/portable", n, &imgs, ScratchI8::new, |x, s| {
        black_box(q.forward_portable(x, s));
    });
    throughput("int8/forward", n, &imgs, ScratchI8::new, |x, s| {
        black_box(q.forward(x, s));
    });
    let f = f32_model();
    let fimgs: Vec<[f32; IN_LEN]> = imgs.iter().map(lenet_core::pixels_to_f32).collect();
    throughput("f32/portable", n, &fimgs, ScratchF32::new, |x, s| {
        black_box(f.forward_portable(x, s));
    });
    throughput("f32/forward", n, &fimgs, ScratchF32::new, |x, s| {
        black_box(f.forward(x, s));
    });
    #[cfg(target_arch = "x86_64")]
    {
        let pq = lenet_core::model::PackedI8::new(&q);
        throughput("int8/packed", n, &imgs, ScratchI8::new, |x, s| {
            black_box(pq.forward(x, s));
        });
    }
}
