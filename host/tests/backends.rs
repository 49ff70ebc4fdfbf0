//! `--backend` is a run-time choice among the backends the binary was built with: one built
//! without gives an error naming its cargo feature, and wgpu on a machine without an adapter
//! gives an error naming the graphics APIs it tried and the CPU fallback, before any data is
//! read or anything is written.

use std::process::{Command, Output};

fn host(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_host"));
    c.args(args);
    c
}

fn failed(mut c: Command) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out: Output = c
        .current_dir(dir.path())
        .args(["--data-dir", "no-such-dir"])
        .output()
        .expect("run host");
    assert!(!out.status.success(), "host succeeded");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing is written"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_backend_built_without_names_its_cargo_feature() {
    // CUDA needs a download at build time, so no build here has it.
    let err = failed(host(&["train", "--backend", "cuda"]));
    assert!(
        err.contains("built without the `cuda` backend") && err.contains("--features cuda"),
        "{err}"
    );
    assert!(err.contains("--backend flex"), "{err}");
    if !cfg!(feature = "ndarray") {
        let err = failed(host(&["train", "--backend", "ndarray"]));
        assert!(err.contains("--features ndarray"), "{err}");
    }
    if !cfg!(feature = "wgpu") {
        let err = failed(host(&["train", "--backend", "wgpu"]));
        assert!(err.contains("--features wgpu"), "{err}");
    }
}

#[test]
fn wgpu_without_an_adapter_names_the_apis_and_the_fallback() {
    if !cfg!(feature = "wgpu") {
        eprintln!("skipped: this host binary has no wgpu backend");
        return;
    }
    // No Vulkan driver and no EGL vendor library for OpenGL: the machine has no adapter.
    let mut c = host(&["train", "--backend", "wgpu"]);
    c.env("VK_ICD_FILENAMES", "/nonexistent.json")
        .env("VK_DRIVER_FILES", "/nonexistent.json")
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent.json");
    let err = failed(c);
    assert!(err.contains("no GPU adapter found"), "{err}");
    assert!(err.contains("Vulkan: 0 adapter(s)"), "{err}");
    assert!(err.contains("--backend flex"), "{err}");
}
