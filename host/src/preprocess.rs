//! Turning a picture file of a handwritten digit into the 28x28 input the network was trained
//! on, for `host predict --image`.
//!
//! The steps themselves (greyscale, polarity, contrast, crop, scale, centre by mass) live in the
//! `lenet-preprocess` crate, re-exported here: the browser page (`web/`) compiles the same code
//! to WebAssembly, so a picture gives the same 28x28 input in both. This module adds reading the
//! file, with errors that name it.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub use lenet_preprocess::*;

use crate::data;

const _: () = assert!(PIXELS == data::PIXELS);

/// Why a picture could not be turned into a digit.
#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    /// Reading the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file was read but its picture is unusable.
    #[error("{path}: {problem}")]
    Image {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        problem: ImageProblem,
    },
}

/// Reads a PNG or JPEG file and returns the 28x28 digit the network should see: row-major,
/// 0 = background, 255 = ink (the int8 model's input as is; `lenet_core::pixels_to_f32` for f32).
///
/// # Errors
/// [`PreprocessError`] naming the file: I/O failures, a file over [`MAX_ALLOC`] bytes, and every
/// [`ImageProblem`] of [`digit_from_bytes`].
pub fn load_digit(path: &Path) -> Result<[u8; PIXELS], PreprocessError> {
    let io_err = |source| PreprocessError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    File::open(path)
        .map_err(io_err)?
        .take(MAX_ALLOC + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    let result = if bytes.len() as u64 > MAX_ALLOC {
        Err(ImageProblem::FileTooLarge)
    } else {
        digit_from_bytes(&bytes)
    };
    result.map_err(|problem| PreprocessError::Image {
        path: path.to_path_buf(),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_io_error_naming_it() {
        let err = load_digit(Path::new("no/such/digit.png")).unwrap_err();
        assert!(matches!(err, PreprocessError::Io { .. }), "{err:?}");
        assert!(err.to_string().starts_with("no/such/digit.png: "), "{err}");
    }
}
