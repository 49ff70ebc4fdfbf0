//! The draw-a-digit page in a real browser: `host demo` serves it, headless Chromium loads it,
//! driven offline through chromedriver's WebDriver HTTP API, and the test checks that
//! - for the same 28x28 inputs (the golden vectors and MNIST test images) the page's int8 logits
//!   are lenet-core's on this host, bit for bit;
//! - MNIST test digits drawn onto the page's canvas as pictures get the same 28x28 input as
//!   `host predict --image` makes from the same pictures, and at least as many right answers;
//! - a picture given to "Load a picture" is classified as `predict --image` classifies it;
//! - strokes drawn with a mouse and with a finger (pointer events) are read;
//! - a corrupt or truncated blob shows its error on the page and the model in use stays;
//! - an inference takes well under 10 ms.
//!
//! It also saves a screenshot (`$CARGO_TARGET_TMPDIR/demo.png`, or `$LENET_SCREENSHOT`).
//!
//! Needs `chromium` and `chromedriver` (Debian `chromium`, `chromium-driver`;
//! `scripts/setup-web.sh`) and the MNIST files (`$MNIST_DIR`). Without the browser it is skipped,
//! unless `LENET_REQUIRE_BROWSER` is set (CI sets it), when it fails.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use host::data::{self, PIXELS};
use host::preprocess;
use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use lenet_core::{Model, ScratchI8};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// MNIST test digits drawn onto the page as pictures.
const PICTURES: usize = 200;
/// MNIST test images whose logits are compared (besides the 20 golden vectors).
const LOGIT_IMAGES: usize = 100;
/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The first of `names` found on `PATH`.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A child process, killed when the test ends however it ends.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A WebDriver session; closed (and its browser with it) on drop.
struct Session {
    agent: ureq::Agent,
    base: String,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into()
}

/// `value` of a WebDriver reply; panics with the driver's message on an error.
fn reply(what: &str, resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Value {
    let mut resp = resp.unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = resp.status();
    let text = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"));
    assert!(status.is_success(), "{what}: HTTP {status}: {}", v["value"]);
    v["value"].clone()
}

impl Session {
    fn post(&self, path: &str, body: &Value) -> Value {
        let url = format!("{}{path}", self.base);
        reply(
            path,
            self.agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string()),
        )
    }

    fn get(&self, path: &str) -> Value {
        reply(path, self.agent.get(&format!("{}{path}", self.base)).call())
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page.
    fn exec(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", &json!({ "script": script, "args": args }))
    }

    /// Runs an async `script`: its last argument is the callback that returns the result.
    fn exec_async(&self, script: &str, args: Value) -> Value {
        self.post("/execute/async", &json!({ "script": script, "args": args }))
    }

    fn element(&self, css: &str) -> String {
        let v = self.post(
            "/element",
            &json!({ "using": "css selector", "value": css }),
        );
        v[ELEMENT].as_str().expect("an element id").to_string()
    }

    fn state(&self) -> Value {
        self.exec("return window.lenetDemo.state();", json!([]))
    }

    /// Polls the page's state until `done` holds (at most 20 s).
    fn wait_state(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let s = self.state();
            if done(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{what}: page state {s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Draws `strokes` (points in pad pixels, 280x280) on the pad with a `pointer` ("mouse",
    /// "touch").
    fn draw(&self, pad: &str, pointer: &str, strokes: &[Vec<(f32, f32)>]) {
        let origin = json!({ ELEMENT: pad });
        // Offsets are from the element's centre.
        let at = |(x, y): (f32, f32)| ((x - 140.0).round() as i64, (y - 140.0).round() as i64);
        let mut actions = Vec::new();
        for stroke in strokes {
            let (x, y) = at(stroke[0]);
            actions.push(
                json!({"type": "pointerMove", "duration": 0, "origin": origin, "x": x, "y": y}),
            );
            actions.push(json!({"type": "pointerDown", "button": 0}));
            for &p in &stroke[1..] {
                let (x, y) = at(p);
                actions.push(json!({"type": "pointerMove", "duration": 10, "origin": origin, "x": x, "y": y}));
            }
            actions.push(json!({"type": "pointerUp", "button": 0}));
        }
        self.post(
            "/actions",
            &json!({"actions": [{
                "type": "pointer", "id": pointer,
                "parameters": {"pointerType": pointer},
                "actions": actions,
            }]}),
        );
        reply(
            "release actions",
            self.agent.delete(&format!("{}/actions", self.base)).call(),
        );
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.base).call();
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for chunk in s.as_bytes().chunks(4) {
        let digits: Vec<u8> = chunk
            .iter()
            .filter(|&&c| c != b'=')
            .map(|&c| val(c))
            .collect();
        let n = digits
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | (u32::from(d) << (18 - 6 * i)));
        for i in 0..digits.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// One MNIST digit as a picture a person might draw on the pad: dark ink on white paper, 5x to
/// 9x, somewhere in a picture that fits the 280x280 pad.
fn picture(pixels: &[u8; PIXELS], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let digit = GrayImage::from_raw(28, 28, pixels.to_vec()).expect("28x28");
    let side = 28 * rng.random_range(5..=9u32);
    let mut big = imageops::resize(&digit, side, side, FilterType::Triangle);
    imageops::invert(&mut big);
    let w = side + rng.random_range(0..=(280 - side));
    let h = side + rng.random_range(0..=(280 - side));
    let (left, top) = (
        rng.random_range(0..=w - side),
        rng.random_range(0..=h - side),
    );
    let mut img = GrayImage::from_pixel(w, h, Luma([255]));
    imageops::overlay(&mut img, &big, left.into(), top.into());
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encoding PNG");
    png
}

/// The digits `host predict --image` answers for `files`, in order.
fn host_predict(files: &[PathBuf]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_host"))
        .arg("predict")
        .arg("--weights")
        .arg(repo().join("tests/fixtures/lenet-int8.blob"))
        .arg("--image")
        .args(files)
        .output()
        .expect("running host predict");
    assert!(
        out.status.success(),
        "host predict: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let digits: Vec<u8> = text
        .lines()
        .filter_map(|l| l.split(": predicted ").nth(1))
        .map(|rest| rest[..1].parse().expect("a digit"))
        .collect();
    assert_eq!(digits.len(), files.len(), "{text}");
    digits
}

fn pixels_of(v: &Value) -> Vec<u8> {
    v.as_array()
        .unwrap_or_else(|| panic!("no pixels in {v}"))
        .iter()
        .map(|p| p.as_u64().expect("a pixel") as u8)
        .collect()
}

/// A pen path for a "3", in pad pixels: two arcs, as `web/tests/drawn_digits.rs` draws it.
fn three() -> Vec<(f32, f32)> {
    let arc = |cx: f32, cy: f32, rx: f32, ry: f32, a0: f32, a1: f32| {
        (0..=24).map(move |i| {
            let a = (a0 + (a1 - a0) * i as f32 / 24.0).to_radians();
            (
                40.0 + 200.0 * (cx + rx * a.cos()),
                40.0 + 200.0 * (cy + ry * a.sin()),
            )
        })
    };
    arc(0.48, 0.3, 0.22, 0.2, 200.0, 450.0)
        .chain(arc(0.48, 0.7, 0.26, 0.2, 270.0, 520.0))
        .collect()
}

#[test]
fn page_in_headless_chromium() {
    let chromium = on_path(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = on_path(&["chromedriver"]);
    let (Some(chromium), Some(driver)) = (chromium, driver) else {
        let required = std::env::var_os("LENET_REQUIRE_BROWSER").is_some_and(|v| !v.is_empty());
        assert!(
            !required,
            "LENET_REQUIRE_BROWSER is set but chromium or chromedriver is missing \
             (scripts/setup-web.sh installs them)"
        );
        eprintln!("skipped: chromium and chromedriver not installed (scripts/setup-web.sh)");
        return;
    };
    let test = data::load_test(&data::resolve_dir(None))
        .unwrap_or_else(|e| panic!("set MNIST_DIR to the MNIST files: {e}"));
    let blob_path = repo().join("tests/fixtures/lenet-int8.blob");
    let blob = host::export::read_blob(&blob_path).expect("reading the fixture blob");
    let model = Model::parse(blob.bytes()).expect("fixture blob parses");
    let q = model.int8().expect("fixture blob has the int8 model");

    // The server, and its URL from its first line.
    let mut demo = Reap(
        Command::new(env!("CARGO_BIN_EXE_host"))
            .args(["demo", "--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting host demo"),
    );
    let mut line = String::new();
    BufReader::new(demo.0.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("reading host demo's output");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();

    // chromedriver on a free port.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let _driver = Reap(
        Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver"),
    );
    let agent = agent();
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while agent
        .get(&format!("{base}/status"))
        .call()
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=900,760", "--force-device-scale-factor=1", "--no-first-run"],
        },
    }}});
    let created = reply(
        "new session",
        agent
            .post(&format!("{base}/session"))
            .header("Content-Type", "application/json")
            .send(caps.to_string()),
    );
    let id = created["sessionId"].as_str().expect("a session id");
    let s = Session {
        agent: agent.clone(),
        base: format!("{base}/session/{id}"),
    };
    s.post("/timeouts", &json!({"script": 300_000}));
    s.post("/url", &json!({ "url": url }));
    let ready = s.exec_async(
        "const done = arguments[arguments.length - 1];
         window.lenetDemo.ready.then(() => done(window.lenetDemo.state()));",
        json!([]),
    );
    assert_eq!(ready["error"], Value::Null, "{ready}");
    let model_line = ready["model"].as_str().unwrap_or("").to_string();
    assert!(model_line.contains("lenet-int8.blob"), "{model_line}");
    println!("page: {model_line}");
    // The committed blob is int8 only: the f32 switch is off.
    let f32_disabled = s.exec(
        "return document.querySelector('input[value=f32]').disabled;",
        json!([]),
    );
    assert_eq!(f32_disabled, json!(true));

    // 1. The same 28x28 inputs give the same int8 logits, bit for bit.
    let golden = std::fs::read(repo().join("tests/fixtures/golden.bin")).expect("golden.bin");
    let mut inputs: Vec<Vec<u8>> = golden
        .chunks_exact(PIXELS + 12)
        .map(|r| r[..PIXELS].to_vec())
        .collect();
    inputs.extend((0..LOGIT_IMAGES).map(|i| test.image(i).to_vec()));
    let page_logits = s.exec(
        "return arguments[0].map((p) => window.lenetDemo.logitsI8(p));",
        json!([inputs]),
    );
    let mut scratch = ScratchI8::new();
    for (i, input) in inputs.iter().enumerate() {
        let pixels: &[u8; PIXELS] = input.as_slice().try_into().expect("784 pixels");
        let here: Vec<i64> = q
            .forward(pixels, &mut scratch)
            .iter()
            .map(|&v| v.into())
            .collect();
        let page: Vec<i64> = page_logits[i]
            .as_array()
            .expect("logits")
            .iter()
            .map(|v| v.as_i64().expect("an integer"))
            .collect();
        assert_eq!(
            page, here,
            "input {i}: page logits differ from lenet-core's"
        );
    }
    println!(
        "logits: {} inputs, page == lenet-core bit for bit",
        inputs.len()
    );

    // 2. MNIST test digits drawn on the canvas as pictures, against `host predict --image`.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let mut files = Vec::new();
    let mut urls = Vec::new();
    for i in 0..PICTURES {
        let png = picture(test.image(i), &mut rng);
        let path = dir.path().join(format!("{i}.png"));
        std::fs::write(&path, &png).expect("writing PNG");
        files.push(path);
        urls.push(format!("data:image/png;base64,{}", base64_encode(&png)));
    }
    let host_digits = host_predict(&files);
    let page = s.exec_async(
        "const [urls, done] = arguments;
         (async () => {
           const out = [];
           for (const u of urls) {
             const st = await window.lenetDemo.drawPicture(u);
             out.push({ digit: st.digit, pixels: st.pixels, error: st.error });
           }
           return out;
         })().then(done, (e) => done({ error: String(e) }));",
        json!([urls]),
    );
    let page = page.as_array().unwrap_or_else(|| panic!("{page}"));
    let (mut host_right, mut page_right, mut same_input) = (0, 0, 0);
    for (i, answer) in page.iter().enumerate() {
        assert_eq!(answer["error"], Value::Null, "picture {i}: {answer}");
        let label = test.labels[i];
        let digit = answer["digit"].as_u64().expect("a digit") as u8;
        host_right += usize::from(host_digits[i] == label);
        page_right += usize::from(digit == label);
        let host_input = preprocess::load_digit(&files[i]).expect("host preprocessing");
        same_input += usize::from(pixels_of(&answer["pixels"]) == host_input);
    }
    println!(
        "{PICTURES} MNIST test digits as pictures: page {page_right} right (drawn on the canvas), \
         host predict --image {host_right} right; the same 28x28 input for {same_input}"
    );
    assert!(
        page_right >= host_right,
        "page {page_right} < host {host_right}"
    );
    assert_eq!(
        same_input, PICTURES,
        "the page's 28x28 inputs differ from the host's"
    );

    // 3. "Load a picture" with a file, as a user gives it.
    let digit3 = repo().join("docs/examples/digit-3.png");
    let input = s.element("#picture-file");
    s.post(
        &format!("/element/{input}/value"),
        &json!({ "text": digit3.canonicalize().expect("docs/examples/digit-3.png").to_string_lossy() }),
    );
    let st = s.wait_state("load a picture", |st| st["digit"].is_u64());
    let host_input = preprocess::load_digit(&digit3).expect("host preprocessing");
    assert_eq!(
        st["digit"],
        json!(host_predict(std::slice::from_ref(&digit3))[0])
    );
    assert_eq!(
        pixels_of(&st["pixels"]),
        host_input,
        "digit-3.png: another 28x28 input"
    );

    // 4. Strokes, with a finger and with a mouse.
    let pad = s.element("#pad");
    s.exec("document.getElementById('clear').click();", json!([]));
    s.draw(
        &pad,
        "touch",
        &[vec![(150.0, 45.0), (146.0, 140.0), (142.0, 235.0)]],
    );
    let st = s.wait_state("a stroke drawn by touch", |st| st["digit"].is_u64());
    assert_eq!(st["digit"], json!(1), "a vertical touch stroke: {st}");
    s.exec("document.getElementById('clear').click();", json!([]));
    s.draw(&pad, "mouse", &[three()]);
    let st = s.wait_state("a 3 drawn with the mouse", |st| st["digit"].is_u64());
    assert_eq!(st["digit"], json!(3), "a 3 drawn with the mouse: {st}");

    // 5. Speed: inference alone, and reading + preprocessing the canvas + inference.
    let bench = s.exec("return window.lenetDemo.bench(50);", json!([]));
    let (inference, full) = (
        bench["inference"].as_f64().expect("ms"),
        bench["pad"].as_f64().expect("ms"),
    );
    println!("in the browser: int8 inference {inference:.2} ms, canvas to answer {full:.2} ms");
    assert!(inference < 10.0, "inference takes {inference:.2} ms");

    // The screenshot, with the 3 and its answer.
    let shot = s.get("/screenshot");
    let png = base64_decode(shot.as_str().expect("base64 PNG"));
    let shot_path = std::env::var_os("LENET_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo.png"));
    std::fs::write(&shot_path, &png).expect("writing the screenshot");
    println!("screenshot: {}", shot_path.display());

    // 6. A corrupt and a truncated blob: a message on the page, and the model stays.
    let mut corrupt = std::fs::read(&blob_path).expect("reading the blob");
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0x10;
    let bad = dir.path().join("corrupt.blob");
    std::fs::write(&bad, &corrupt).expect("writing the corrupt blob");
    let short = dir.path().join("short.blob");
    std::fs::write(&short, &corrupt[..1000]).expect("writing the short blob");
    let model_input = s.element("#model-file");
    for (file, expected) in [(&bad, "CRC-32 mismatch"), (&short, "blob too short")] {
        s.post(
            &format!("/element/{model_input}/value"),
            &json!({ "text": file.to_string_lossy() }),
        );
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let st = s.wait_state("the error of a bad blob", |st| {
            st["error"].as_str().is_some_and(|e| e.contains(&name))
        });
        let error = st["error"].as_str().unwrap_or("");
        assert!(error.contains(expected), "{error}");
        assert!(error.contains("still uses lenet-int8.blob"), "{error}");
        println!("page error: {error}");
    }
    let again = s.exec(
        "return window.lenetDemo.logitsI8(arguments[0]);",
        json!([inputs[0]]),
    );
    assert_eq!(
        again, page_logits[0],
        "the model changed after a refused blob"
    );
    drop(s);
    drop(demo);
}
