//! MNIST from the standard IDX files (gzipped or raw): reading, validating, downloading.
//!
//! Headers are untrusted: every size is checked against the bytes actually present before any
//! allocation, so a header claiming 2^32 images costs nothing.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

/// Pixels per image.
pub const PIXELS: usize = 28 * 28;
/// Largest decompressed IDX file accepted (the training images are 44.9 MiB).
pub const MAX_IDX_BYTES: u64 = 64 * 1024 * 1024;

/// One of the four MNIST files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MnistFile {
    /// File name without `.gz`.
    pub name: &'static str,
    /// SHA-256 of the decompressed content.
    pub sha256: &'static str,
}

/// The four files, in the order train images, train labels, test images, test labels.
pub const FILES: [MnistFile; 4] = [
    MnistFile {
        name: "train-images-idx3-ubyte",
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    },
    MnistFile {
        name: "train-labels-idx1-ubyte",
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
    MnistFile {
        name: "t10k-images-idx3-ubyte",
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    MnistFile {
        name: "t10k-labels-idx1-ubyte",
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
];

/// Public mirrors tried in order when files are missing.
pub const MIRRORS: [&str; 3] = [
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
];

/// Why MNIST could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not a valid IDX file of the expected kind.
    #[error("{path}: {problem}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: IdxProblem,
    },
    /// Images and labels disagree in count.
    #[error("{images}: {n_images} images but {labels}: {n_labels} labels")]
    CountMismatch {
        /// Image file.
        images: PathBuf,
        /// Its count.
        n_images: usize,
        /// Label file.
        labels: PathBuf,
        /// Its count.
        n_labels: usize,
    },
    /// The files are absent and could not be downloaded.
    #[error(
        "MNIST not found in {dir} and could not be downloaded ({reason}).\n\
         Put the four files train-images-idx3-ubyte, train-labels-idx1-ubyte, \
         t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (optionally .gz) there, \
         or point --data-dir (or $MNIST_DIR) at a directory that holds them."
    )]
    Missing {
        /// The data directory.
        dir: PathBuf,
        /// Why the download failed.
        reason: String,
    },
    /// A downloaded file did not match its published checksum.
    #[error("{name}: SHA-256 {found} does not match the published {expected}")]
    Checksum {
        /// File name.
        name: String,
        /// Expected digest.
        expected: String,
        /// Actual digest.
        found: String,
    },
}

/// What is wrong with an IDX file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdxProblem {
    /// Shorter than its header.
    #[error("truncated header ({0} bytes)")]
    TruncatedHeader(usize),
    /// Wrong magic number for the expected kind.
    #[error("bad magic {found:#010x}, expected {expected:#010x}")]
    BadMagic {
        /// Found.
        found: u32,
        /// Expected.
        expected: u32,
    },
    /// Image dimensions other than 28x28.
    #[error("images are {rows}x{cols}, expected 28x28")]
    BadDimensions {
        /// Rows.
        rows: u32,
        /// Columns.
        cols: u32,
    },
    /// The header's count x item size overflows or disagrees with the data length.
    #[error("header declares {declared} items ({needed} bytes) but {present} data bytes follow")]
    LengthMismatch {
        /// Items declared.
        declared: u32,
        /// Bytes needed (saturated).
        needed: u64,
        /// Bytes present.
        present: u64,
    },
    /// A label outside 0..=9.
    #[error("label {label} at index {index} is not a digit")]
    BadLabel {
        /// Index.
        index: usize,
        /// Value.
        label: u8,
    },
    /// Larger than [`MAX_IDX_BYTES`] once decompressed.
    #[error("larger than {MAX_IDX_BYTES} bytes decompressed")]
    TooLarge,
    /// Not valid gzip.
    #[error("corrupt gzip stream: {0}")]
    Gzip(String),
}

/// A split of MNIST in memory: `images.len() == labels.len() * PIXELS`.
#[derive(Debug, Clone, Default)]
pub struct Split {
    /// Row-major 28x28 u8 images, concatenated.
    pub images: Vec<u8>,
    /// Labels 0..=9.
    pub labels: Vec<u8>,
}

impl Split {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of example `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn image(&self, i: usize) -> &[u8; PIXELS] {
        self.images[i * PIXELS..(i + 1) * PIXELS]
            .try_into()
            .expect("PIXELS-long slice")
    }

    /// The first `n` examples (or all of them).
    pub fn take(&self, n: usize) -> Split {
        let n = n.min(self.len());
        Split {
            images: self.images[..n * PIXELS].to_vec(),
            labels: self.labels[..n].to_vec(),
        }
    }
}

/// MNIST train and test splits.
#[derive(Debug, Clone)]
pub struct Mnist {
    /// 60,000 training examples.
    pub train: Split,
    /// 10,000 test examples.
    pub test: Split,
}

/// Parses an IDX image file (magic 2051, 28x28).
///
/// # Errors
/// [`IdxProblem`] for every malformation.
pub fn parse_images(bytes: &[u8]) -> Result<Vec<u8>, IdxProblem> {
    let header = bytes
        .get(..16)
        .ok_or(IdxProblem::TruncatedHeader(bytes.len()))?;
    let word = |i: usize| u32::from_be_bytes(header[i..i + 4].try_into().expect("4 bytes"));
    if word(0) != 2051 {
        return Err(IdxProblem::BadMagic {
            found: word(0),
            expected: 2051,
        });
    }
    let (count, rows, cols) = (word(4), word(8), word(12));
    if rows != 28 || cols != 28 {
        return Err(IdxProblem::BadDimensions { rows, cols });
    }
    let data = &bytes[16..];
    let needed = u64::from(count) * PIXELS as u64;
    if needed != data.len() as u64 {
        return Err(IdxProblem::LengthMismatch {
            declared: count,
            needed,
            present: data.len() as u64,
        });
    }
    Ok(data.to_vec())
}

/// Parses an IDX label file (magic 2049, values 0..=9).
///
/// # Errors
/// [`IdxProblem`] for every malformation.
pub fn parse_labels(bytes: &[u8]) -> Result<Vec<u8>, IdxProblem> {
    let header = bytes
        .get(..8)
        .ok_or(IdxProblem::TruncatedHeader(bytes.len()))?;
    let word = |i: usize| u32::from_be_bytes(header[i..i + 4].try_into().expect("4 bytes"));
    if word(0) != 2049 {
        return Err(IdxProblem::BadMagic {
            found: word(0),
            expected: 2049,
        });
    }
    let count = word(4);
    let data = &bytes[8..];
    if u64::from(count) != data.len() as u64 {
        return Err(IdxProblem::LengthMismatch {
            declared: count,
            needed: u64::from(count),
            present: data.len() as u64,
        });
    }
    if let Some(index) = data.iter().position(|&l| l > 9) {
        return Err(IdxProblem::BadLabel {
            index,
            label: data[index],
        });
    }
    Ok(data.to_vec())
}

/// Reads a file, transparently gunzipping it when it starts with the gzip magic, refusing more
/// than [`MAX_IDX_BYTES`] of output.
fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let io_err = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut raw = Vec::new();
    File::open(path)
        .map_err(io_err)?
        .take(MAX_IDX_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(io_err)?;
    gunzip_if_gz(raw).map_err(|problem| DataError::Malformed {
        path: path.to_path_buf(),
        problem,
    })
}

/// The content of an IDX file as stored: gunzipped when `raw` starts with the gzip magic
/// (`1f 8b`), else `raw` itself; never more than [`MAX_IDX_BYTES`] (decompression stops there).
///
/// # Errors
/// [`IdxProblem::Gzip`] for a corrupt stream, [`IdxProblem::TooLarge`] past the limit.
pub fn gunzip_if_gz(raw: Vec<u8>) -> Result<Vec<u8>, IdxProblem> {
    let out = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(raw.as_slice())
            .take(MAX_IDX_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| IdxProblem::Gzip(e.to_string()))?;
        out
    } else {
        raw
    };
    if out.len() as u64 > MAX_IDX_BYTES {
        return Err(IdxProblem::TooLarge);
    }
    Ok(out)
}

/// Finds `name` or `name.gz` in `dir`.
fn locate(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
}

fn load_split(dir: &Path, images: &MnistFile, labels: &MnistFile) -> Result<Split, DataError> {
    let missing = |name: &str| DataError::Missing {
        dir: dir.to_path_buf(),
        reason: format!("{name} disappeared"),
    };
    let ip = locate(dir, images.name).ok_or_else(|| missing(images.name))?;
    let lp = locate(dir, labels.name).ok_or_else(|| missing(labels.name))?;
    let img = parse_images(&read_maybe_gz(&ip)?).map_err(|problem| DataError::Malformed {
        path: ip.clone(),
        problem,
    })?;
    let lab = parse_labels(&read_maybe_gz(&lp)?).map_err(|problem| DataError::Malformed {
        path: lp.clone(),
        problem,
    })?;
    if img.len() / PIXELS != lab.len() {
        return Err(DataError::CountMismatch {
            images: ip,
            n_images: img.len() / PIXELS,
            labels: lp,
            n_labels: lab.len(),
        });
    }
    Ok(Split {
        images: img,
        labels: lab,
    })
}

/// The data directory to use: the flag, else `$MNIST_DIR`, else `data/mnist`.
pub fn resolve_dir(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| std::env::var_os("MNIST_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("data/mnist"))
}

/// Loads MNIST from `dir`, downloading and verifying missing files first.
///
/// # Errors
/// [`DataError`] naming the file and the problem.
pub fn load(dir: &Path) -> Result<Mnist, DataError> {
    let missing: Vec<&MnistFile> = FILES
        .iter()
        .filter(|f| locate(dir, f.name).is_none())
        .collect();
    if !missing.is_empty() {
        download(dir, &missing)?;
    }
    Ok(Mnist {
        train: load_split(dir, &FILES[0], &FILES[1])?,
        test: load_split(dir, &FILES[2], &FILES[3])?,
    })
}

/// Loads only the 10,000 test examples.
///
/// # Errors
/// As [`load`].
pub fn load_test(dir: &Path) -> Result<Split, DataError> {
    let missing: Vec<&MnistFile> = FILES[2..]
        .iter()
        .filter(|f| locate(dir, f.name).is_none())
        .collect();
    if !missing.is_empty() {
        download(dir, &missing)?;
    }
    load_split(dir, &FILES[2], &FILES[3])
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Downloads `files` into `dir` from the first mirror that serves each, verifying the SHA-256
/// of the decompressed content, and stores them gzipped (temp file + rename, which creates
/// `dir`). `dir` is created only once a verified file is written, so a failed download leaves no empty directory;
/// files verified before a later one fails are kept (the next run downloads only the rest).
fn download(dir: &Path, files: &[&MnistFile]) -> Result<(), DataError> {
    let fail = |reason: String| DataError::Missing {
        dir: dir.to_path_buf(),
        reason,
    };
    for file in files {
        let mut last = String::from("no mirror tried");
        let mut done = false;
        for mirror in MIRRORS {
            let url = format!("{mirror}{}.gz", file.name);
            eprintln!("downloading {url}");
            let gz = match fetch(&url) {
                Ok(b) => b,
                Err(e) => {
                    last = format!("{url}: {e}");
                    continue;
                }
            };
            let mut raw = Vec::new();
            if let Err(e) = GzDecoder::new(gz.as_slice())
                .take(MAX_IDX_BYTES + 1)
                .read_to_end(&mut raw)
            {
                last = format!("{url}: corrupt gzip: {e}");
                continue;
            }
            let digest = sha256_hex(&raw);
            if digest != file.sha256 {
                last = DataError::Checksum {
                    name: file.name.into(),
                    expected: file.sha256.into(),
                    found: digest,
                }
                .to_string();
                continue;
            }
            let target = dir.join(format!("{}.gz", file.name));
            crate::io::write_atomic(&target, &gz)
                .map_err(|e| fail(format!("cannot write {}: {e}", target.display())))?;
            eprintln!("verified {} (SHA-256 {})", file.name, &digest[..16]);
            done = true;
            break;
        }
        if !done {
            return Err(fail(last));
        }
    }
    Ok(())
}

fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(120)))
        .build()
        .into();
    let mut resp = agent.get(url).call().map_err(|e| e.to_string())?;
    resp.body_mut()
        .with_config()
        .limit(MAX_IDX_BYTES)
        .read_to_vec()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx_images(count: u32, rows: u32, cols: u32, data: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [2051, count, rows, cols] {
            v.extend_from_slice(&u32::to_be_bytes(w));
        }
        v.resize(16 + data, 7);
        v
    }

    #[test]
    fn images_parse_when_well_formed() {
        assert_eq!(
            parse_images(&idx_images(2, 28, 28, 2 * PIXELS))
                .unwrap()
                .len(),
            2 * PIXELS
        );
    }

    #[test]
    fn images_bad_magic_is_rejected() {
        let mut b = idx_images(1, 28, 28, PIXELS);
        b[3] = 1;
        assert!(matches!(parse_images(&b), Err(IdxProblem::BadMagic { .. })));
    }

    #[test]
    fn images_truncated_header_is_rejected() {
        assert_eq!(
            parse_images(&[0, 0, 8]),
            Err(IdxProblem::TruncatedHeader(3))
        );
    }

    #[test]
    fn images_huge_count_is_rejected_without_allocation() {
        let b = idx_images(u32::MAX, 28, 28, PIXELS);
        assert!(matches!(
            parse_images(&b),
            Err(IdxProblem::LengthMismatch {
                declared: u32::MAX,
                ..
            })
        ));
    }

    #[test]
    fn images_short_data_is_rejected() {
        assert!(matches!(
            parse_images(&idx_images(3, 28, 28, 2 * PIXELS)),
            Err(IdxProblem::LengthMismatch { .. })
        ));
    }

    #[test]
    fn images_wrong_dimensions_are_rejected() {
        assert!(matches!(
            parse_images(&idx_images(1, 32, 32, 1024)),
            Err(IdxProblem::BadDimensions { rows: 32, cols: 32 })
        ));
    }

    #[test]
    fn labels_out_of_range_are_rejected() {
        let mut b = vec![0, 0, 8, 1, 0, 0, 0, 3];
        b.extend_from_slice(&[1, 12, 3]);
        assert_eq!(
            parse_labels(&b),
            Err(IdxProblem::BadLabel {
                index: 1,
                label: 12
            })
        );
    }

    #[test]
    fn labels_count_mismatch_is_rejected() {
        let b = vec![0, 0, 8, 1, 0, 0, 0, 5, 1, 2];
        assert!(matches!(
            parse_labels(&b),
            Err(IdxProblem::LengthMismatch { declared: 5, .. })
        ));
    }

    #[test]
    fn gzip_bomb_is_cut_off() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.gz");
        let mut enc = GzEncoder::new(File::create(&path).unwrap(), Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(MAX_IDX_BYTES >> 20) + 2 {
            enc.write_all(&zeros).unwrap();
        }
        enc.finish().unwrap();
        assert!(matches!(
            read_maybe_gz(&path),
            Err(DataError::Malformed {
                problem: IdxProblem::TooLarge,
                ..
            })
        ));
    }

    proptest::proptest! {
        #[test]
        fn idx_parsers_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let _ = parse_images(&bytes);
            let _ = parse_labels(&bytes);
        }

        /// Arbitrary bytes behind the gzip magic give content or a typed error, never a panic.
        #[test]
        fn gzip_layer_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let mut raw = vec![0x1f, 0x8b];
            raw.extend_from_slice(&bytes);
            if let Ok(content) = gunzip_if_gz(raw) {
                let _ = parse_images(&content);
                let _ = parse_labels(&content);
            }
        }
    }
}
