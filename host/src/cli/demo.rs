//! `host demo`: serves the draw-a-digit page on a local HTTP port and prints its URL.
//!
//! The page (`web/www/`: HTML, CSS, JavaScript, and the WebAssembly module that `web/build.sh`
//! builds into `web/www/pkg/`, committed) and the default model (`tests/fixtures/lenet-int8.blob`)
//! are embedded in the binary: the command builds nothing and needs no wasm toolchain. The
//! server is a small std one: `GET` and `HEAD` of those files with their MIME types
//! (`application/wasm` for the module, which browsers require to compile it while it streams),
//! one thread per connection, `Connection: close`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use host::export;

use super::source::parse_blob;

/// The page's files: URL path, MIME type, contents.
const PAGE: &[(&str, &str, &[u8])] = &[
    (
        "/",
        "text/html; charset=utf-8",
        include_bytes!("../../../web/www/index.html"),
    ),
    (
        "/index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../web/www/index.html"),
    ),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/www/app.js"),
    ),
    (
        "/style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../web/www/style.css"),
    ),
    (
        "/pkg/lenet_web.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/www/pkg/lenet_web.js"),
    ),
    (
        "/pkg/lenet_web_bg.wasm",
        "application/wasm",
        include_bytes!("../../../web/www/pkg/lenet_web_bg.wasm"),
    ),
];

/// The model the page loads unless `--weights` names another.
const DEFAULT_BLOB: &[u8] = include_bytes!("../../../tests/fixtures/lenet-int8.blob");
/// Its name, shown on the page.
const DEFAULT_BLOB_NAME: &str = "lenet-int8.blob";
/// Where the page fetches its model.
const MODEL_PATH: &str = "/model.blob";
/// The longest request head read (request line and headers).
const MAX_HEAD: u64 = 16 * 1024;

/// Options of `host demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Address to listen on (`0.0.0.0` to let other machines in).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Port to listen on; 0 picks a free one (the printed URL says which).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// The model the page starts with [default: the committed tests/fixtures/lenet-int8.blob].
    #[arg(long, value_name = "BLOB")]
    pub weights: Option<PathBuf>,
}

impl DemoArgs {
    /// Runs `host demo`: serves until the process is stopped.
    ///
    /// # Errors
    /// An unreadable or malformed `--weights` blob, or an address that cannot be bound.
    pub fn run(self) -> Result<()> {
        let site = match &self.weights {
            Some(path) => {
                let blob = export::read_blob(path)?;
                parse_blob(&blob, path)?;
                let name = path
                    .file_name()
                    .map_or_else(|| "model.blob".into(), |n| n.to_string_lossy().into_owned());
                Site::new(blob.bytes().to_vec(), name)
            }
            None => Site::new(DEFAULT_BLOB.to_vec(), DEFAULT_BLOB_NAME.to_string()),
        };
        let addr = SocketAddr::new(self.bind, self.port);
        let listener = TcpListener::bind(addr).with_context(|| format!("listening on {addr}"))?;
        let addr = listener.local_addr()?;
        println!(
            "Serving the draw-a-digit page at http://{addr}/ (model: {}; Ctrl-C to stop)",
            site.model_name
        );
        io::stdout().flush()?;
        serve(listener, Arc::new(site));
        Ok(())
    }
}

/// What the server hands out: the embedded page and one model.
pub struct Site {
    model: Vec<u8>,
    model_name: String,
}

impl Site {
    /// The page with `model` (a blob's bytes, shown as `model_name`) as its model.
    pub fn new(model: Vec<u8>, model_name: String) -> Self {
        Self { model, model_name }
    }

    /// The MIME type and contents at URL path `path` (query and fragment already removed).
    fn lookup(&self, path: &str) -> Option<(&'static str, &[u8])> {
        if path == MODEL_PATH {
            return Some(("application/octet-stream", &self.model));
        }
        PAGE.iter()
            .find(|(p, _, _)| *p == path)
            .map(|&(_, mime, body)| (mime, body))
    }
}

/// Accepts connections forever, one thread each.
pub fn serve(listener: TcpListener, site: Arc<Site>) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let site = Arc::clone(&site);
                std::thread::spawn(move || {
                    // A client that goes away mid-request is its own business.
                    let _ = respond(stream, &site);
                });
            }
            Err(e) => eprintln!("host demo: accepting a connection: {e}"),
        }
    }
}

/// Reads one request and writes its response.
fn respond(stream: TcpStream, site: &Site) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?.take(MAX_HEAD));
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // The headers are read (and ignored) so that the client is not reset before the response.
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split(['?', '#']).next().unwrap_or("");
    let (status, mime, body, extra) = match (method, site.lookup(path)) {
        ("GET" | "HEAD", Some((mime, body))) => {
            let extra = if path == MODEL_PATH {
                format!("X-Model-Name: {}\r\n", header_safe(&site.model_name))
            } else {
                String::new()
            };
            ("200 OK", mime, body, extra)
        }
        ("GET" | "HEAD", None) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            &b"not found\n"[..],
            String::new(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            &b"only GET and HEAD\n"[..],
            "Allow: GET, HEAD\r\n".to_string(),
        ),
    };
    let mut out = io::BufWriter::new(stream);
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: {mime}\r\nContent-Length: {}\r\n\
         Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        out.write_all(body)?;
    }
    out.flush()
}

/// `s` with everything but printable ASCII replaced by `_`, for a header value.
fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server on a free loopback port; returns its base URL.
    fn start() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let site = Site::new(b"LNET...".to_vec(), "my model\u{e9}.blob".to_string());
        std::thread::spawn(move || serve(listener, Arc::new(site)));
        url
    }

    /// Status, `Content-Type` and body of `method path` sent as raw HTTP.
    fn request(url: &str, method: &str, path: &str) -> (u16, String, Vec<u8>, String) {
        let addr = url.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(raw[..split].to_vec()).unwrap();
        let status = head[9..12].parse().unwrap();
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_string))
                .unwrap_or_default()
        };
        if method != "HEAD" {
            let len: usize = header("Content-Length").parse().unwrap();
            assert_eq!(len, raw.len() - split - 4);
        }
        (
            status,
            header("Content-Type"),
            raw[split + 4..].to_vec(),
            header("X-Model-Name"),
        )
    }

    #[test]
    fn page_files_have_their_mime_types() {
        let url = start();
        for (path, mime) in [
            ("/", "text/html; charset=utf-8"),
            ("/index.html?x=1", "text/html; charset=utf-8"),
            ("/app.js", "text/javascript; charset=utf-8"),
            ("/style.css", "text/css; charset=utf-8"),
            ("/pkg/lenet_web.js", "text/javascript; charset=utf-8"),
            ("/pkg/lenet_web_bg.wasm", "application/wasm"),
            ("/model.blob", "application/octet-stream"),
        ] {
            let (status, ty, body, _) = request(&url, "GET", path);
            assert_eq!((status, ty.as_str()), (200, mime), "{path}");
            assert!(!body.is_empty(), "{path}");
        }
        let (_, _, wasm, _) = request(&url, "GET", "/pkg/lenet_web_bg.wasm");
        assert_eq!(&wasm[..4], b"\0asm");
    }

    #[test]
    fn model_is_served_with_its_name() {
        let url = start();
        let (status, _, body, name) = request(&url, "GET", "/model.blob");
        assert_eq!(status, 200);
        assert_eq!(body, b"LNET...");
        assert_eq!(name, "my model_.blob");
    }

    #[test]
    fn head_has_no_body_and_unknown_paths_and_methods_are_refused() {
        let url = start();
        let (status, ty, body, _) = request(&url, "HEAD", "/app.js");
        assert_eq!(
            (status, ty.as_str(), body.len()),
            (200, "text/javascript; charset=utf-8", 0)
        );
        assert_eq!(request(&url, "GET", "/../Cargo.toml").0, 404);
        assert_eq!(request(&url, "GET", "/pkg/").0, 404);
        assert_eq!(request(&url, "POST", "/").0, 405);
        assert_eq!(request(&url, "", "").0, 405);
    }

    #[test]
    fn embedded_default_model_parses() {
        let blob = export::AlignedBlob::new(DEFAULT_BLOB);
        assert!(
            lenet_core::Model::parse(blob.bytes())
                .unwrap()
                .int8()
                .is_some()
        );
    }
}
