//! Exercises the firmware's serial service over a link (`tcp:HOST:PORT` or a device path) with
//! the host's client (the `lenet-serial` crate):
//!
//! ```text
//! serial-check classify --serial SPEC [--count N] [--golden FILE]
//! serial-check garbage  --serial SPEC [--golden FILE]
//! ```
//!
//! `classify` sends the first N golden images and requires replies bit-identical to the golden
//! int8 results. `garbage` sends random bytes, a truncated frame, an oversize length, a bad
//! checksum, an unknown kind and a truncated frame followed at once by a valid one, and requires
//! an error frame for each fault and a correct answer to the valid request after it.
//! The golden file defaults to `$LENET_GOLDEN`, then `../tests/fixtures/golden.bin`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use lenet_core::protocol::{FrameError, Message, encode};
use lenet_core::shape::{CLASSES, IN_LEN};
use lenet_serial::SerialClient;

/// Longer than the firmware's 200 ms frame timeout (200 M emulated instructions under
/// `-icount`), with room for QEMU on a loaded machine.
const QUIET: Duration = Duration::from_millis(5000);

struct Golden {
    pixels: [u8; IN_LEN],
    label: u8,
    digit: u8,
    logits: [i8; CLASSES],
}

fn load_golden(path: &str) -> anyhow::Result<Vec<Golden>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading golden vectors {path}"))?;
    let file = lenet_core::golden::Golden::parse(&bytes)
        .map_err(|e| anyhow::anyhow!("golden vectors {path}: {e}"))?;
    Ok(file
        .records()
        .map(|r| Golden {
            pixels: *r.image(),
            label: r.label(),
            digit: r.digit(),
            logits: r.logits(),
        })
        .collect())
}

fn check(client: &mut SerialClient, g: &Golden, what: &str) -> anyhow::Result<()> {
    let reply = client
        .classify(&g.pixels)
        .with_context(|| format!("classify after {what}"))?;
    ensure!(
        reply.digit == g.digit && reply.logits == g.logits,
        "after {what}: got digit {} logits {:?}, expected digit {} logits {:?}",
        reply.digit,
        reply.logits,
        g.digit,
        g.logits
    );
    Ok(())
}

fn expect_error(
    client: &mut SerialClient,
    what: &str,
    wanted: impl Fn(&FrameError) -> bool,
) -> anyhow::Result<()> {
    let errors = client.drain_errors(QUIET)?;
    println!("{what}: error frames {errors:?}");
    ensure!(
        errors.iter().any(wanted),
        "{what}: the expected error frame did not come back"
    );
    Ok(())
}

fn garbage(client: &mut SerialClient, golden: &[Golden]) -> anyhow::Result<()> {
    let g = |i: usize| &golden[i % golden.len()];
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut random = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng as u8
            })
            .collect()
    };

    client.send_raw(&random(600))?;
    expect_error(client, "600 random bytes", |_| true)?;
    check(client, g(0), "random bytes")?;

    let frame = encode(0x42, &Message::Classify(&g(1).pixels));
    client.send_raw(&frame.as_bytes()[..300])?;
    expect_error(client, "truncated frame", |e| {
        matches!(e, FrameError::Timeout { .. })
    })?;
    check(client, g(1), "a truncated frame")?;

    client.send_raw(&[0xA5, 0x5A, 0x01, 0x43, 0xFF, 0xFF])?;
    expect_error(client, "oversize length", |e| {
        matches!(e, FrameError::Length { len: 0xFFFF, .. })
    })?;
    check(client, g(2), "an oversize length")?;

    let mut bad = frame.as_bytes().to_vec();
    bad[100] ^= 0x01;
    client.send_raw(&bad)?;
    expect_error(client, "bad checksum", |e| {
        matches!(e, FrameError::Checksum { .. })
    })?;
    check(client, g(3), "a bad checksum")?;

    client.send_raw(&[0xA5, 0x5A, 0x77, 0x44, 0x00, 0x00])?;
    expect_error(client, "unknown kind", |e| {
        matches!(e, FrameError::UnknownKind { kind: 0x77 })
    })?;
    check(client, g(4), "an unknown kind")?;

    // No pause: the valid frame is swallowed by the truncated one and found again by the
    // firmware's rescan.
    client.send_raw(&frame.as_bytes()[..500])?;
    check(
        client,
        g(5),
        "a truncated frame directly followed by a valid one",
    )?;

    let mut burst = random(2000);
    burst.extend_from_slice(&[0xA5, 0x5A, 0x01, 0x45, 0x10, 0x03]);
    client.send_raw(&burst)?;
    check(client, g(6), "random bytes ending in a stray header")?;
    println!(
        "garbage: every fault answered with an error frame, every valid request after it answered correctly"
    );
    Ok(())
}

fn run() -> anyhow::Result<bool> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut mode = None;
    let mut spec = None;
    let mut count = 10usize;
    let mut golden_path =
        std::env::var("LENET_GOLDEN").unwrap_or_else(|_| "../tests/fixtures/golden.bin".into());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "classify" | "garbage" => mode = Some(a.clone()),
            "--serial" => spec = it.next().cloned(),
            "--count" => count = it.next().context("--count needs a value")?.parse()?,
            "--golden" => golden_path = it.next().context("--golden needs a value")?.clone(),
            other => bail!("unknown argument {other}"),
        }
    }
    let (Some(mode), Some(spec)) = (mode, spec) else {
        bail!("usage: serial-check classify|garbage --serial SPEC [--count N] [--golden FILE]")
    };
    let golden = load_golden(&golden_path)?;
    let mut client = SerialClient::connect(&spec, Duration::from_secs(10))?;
    if mode == "garbage" {
        garbage(&mut client, &golden)?;
        return Ok(true);
    }
    let mut mismatches = 0;
    for (i, g) in golden.iter().cycle().take(count).enumerate() {
        let r = client.classify(&g.pixels)?;
        let ok = r.digit == g.digit && r.logits == g.logits;
        mismatches += usize::from(!ok);
        println!(
            "image {i}: label {} digit {} logits {:?} {} instructions {}",
            g.label,
            r.digit,
            r.logits,
            r.instructions,
            if ok { "ok" } else { "MISMATCH" }
        );
    }
    println!("{}/{count} replies bit-exact", count - mismatches);
    Ok(mismatches == 0)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
