//! Never lose work, and get the same bytes every time: short real training runs of the `host`
//! binary on an MNIST subset.
//!
//! - Two uninterrupted runs with the same seed write bit-identical checkpoints and blobs.
//! - A run killed (SIGKILL) during its second epoch resumes from the first epoch's state with
//!   `--resume` and ends with the same checkpoint and blob bytes as the uninterrupted run.
//! - A run stopped with Ctrl-C (SIGINT) in the middle of an epoch saves its exact position, exits
//!   with status 130, and `--resume` continues from the next step to the same bytes.
//!
//! Needs the MNIST files (`$MNIST_DIR`) and a Unix `kill` command.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Training images per epoch: 12 steps of 128.
const TRAIN: &str = "1536";

fn host() -> Command {
    Command::new(env!("CARGO_BIN_EXE_host"))
}

/// `host train` on the subset with checkpoint and blob under `dir`.
fn train(dir: &Path, extra: &[&str]) -> Command {
    let mut c = host();
    c.args([
        "train",
        "--epochs",
        "2",
        "--train-limit",
        TRAIN,
        "--test-limit",
        "200",
    ])
    .args(["--calibration", "200", "--precision", "both"])
    .arg("--save-model")
    .arg(dir.join("m.bpk"))
    .arg("--export")
    .arg(dir.join("m.blob"))
    .args(extra);
    c
}

fn run(mut c: Command) -> Output {
    let out = c.output().expect("run host");
    assert!(
        out.status.success(),
        "host failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn spawn(mut c: Command) -> Child {
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn host")
}

/// Waits until `path` exists (written atomically by the run), failing after two minutes.
fn wait_for(path: &Path, child: &mut Child) {
    let t = Instant::now();
    while !path.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("host exited ({status}) before writing {}", path.display());
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "no {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The files a finished run leaves, by name: checkpoint and blob.
fn results(dir: &Path) -> [(PathBuf, Vec<u8>); 2] {
    ["m.bpk", "m.blob"].map(|name| {
        let p = dir.join(name);
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        (p, bytes)
    })
}

fn assert_same(a: &Path, b: &Path) {
    for ((pa, x), (pb, y)) in results(a).iter().zip(&results(b)) {
        assert!(
            x == y,
            "{} and {} differ ({} vs {} bytes)",
            pa.display(),
            pb.display(),
            x.len(),
            y.len()
        );
    }
}

#[test]
fn interrupted_runs_resume_to_the_same_bytes() {
    let root = tempfile::tempdir().unwrap();
    let [a, b, killed, stopped] = ["a", "b", "killed", "stopped"].map(|d| root.path().join(d));

    // Reproducibility: same seed, same backend, same machine => same bytes.
    run(train(&a, &[]));
    run(train(&b, &[]));
    assert_same(&a, &b);

    // SIGKILL in the second epoch, once the first epoch's state is on disk.
    let mut child = spawn(train(&killed, &[]));
    wait_for(&killed.join("m.bpk.state"), &mut child);
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !killed.join("m.blob").exists(),
        "the run finished before it could be killed"
    );
    let out = run(train(&killed, &["--resume"]));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("resuming after epoch 1 of 2"), "{log}");
    assert_same(&a, &killed);

    // Ctrl-C in the first epoch, once its first progress line (a fifth of the steps) is out:
    // the run saves its position and exits with 130.
    let mut child = spawn(train(&stopped, &[]));
    let t = Instant::now();
    let pid = child.id().to_string();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut log = String::new();
        let mut buf = [0u8; 256];
        let mut signalled = false;
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            log.push_str(&String::from_utf8_lossy(&buf[..n]));
            if !signalled && log.contains("epoch 1/2 step") {
                signalled = true;
                let status = Command::new("kill")
                    .args(["-INT", &pid])
                    .status()
                    .expect("run kill");
                assert!(status.success());
            }
        }
        log
    });
    let status = child.wait().unwrap();
    let log = reader.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(300));
    assert_eq!(status.code(), Some(130), "{log}");
    assert!(
        !stopped.join("m.bpk").exists(),
        "stopped before epoch 1 ended"
    );
    let out = run(train(&stopped, &["--resume"]));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("resuming epoch 1 of 2 at step"), "{log}");
    assert_same(&a, &stopped);
}
