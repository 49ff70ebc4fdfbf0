//! Writing weight blobs.

use std::path::Path;

use anyhow::{Context, Result};
#[cfg(feature = "train")]
use lenet_core::blob::{BlobWriter, SectionId};

#[cfg(feature = "train")]
use crate::model::FlatParams;

/// Adds the f32 model's eight sections to `w`.
///
/// # Errors
/// A parameter vector of the wrong length.
#[cfg(feature = "train")]
pub fn add_f32(w: &mut BlobWriter, p: &FlatParams) -> Result<()> {
    use SectionId as S;
    for (id, data) in [
        (S::Conv1Weight, &p.conv1_w),
        (S::Conv1Bias, &p.conv1_b),
        (S::Conv2Weight, &p.conv2_w),
        (S::Conv2Bias, &p.conv2_b),
        (S::Fc1Weight, &p.fc1_w),
        (S::Fc1Bias, &p.fc1_b),
        (S::Fc2Weight, &p.fc2_w),
        (S::Fc2Bias, &p.fc2_b),
    ] {
        w.add_f32(id, data)?;
    }
    Ok(())
}

/// A blob holding only the f32 model.
///
/// # Errors
/// A parameter vector of the wrong length.
#[cfg(feature = "train")]
pub fn f32_blob(p: &FlatParams) -> Result<Vec<u8>> {
    let mut w = BlobWriter::new(p.activation);
    add_f32(&mut w, p)?;
    Ok(w.finish()?)
}

/// Writes `bytes` to `path` atomically.
///
/// # Errors
/// I/O failures, with the path in the message.
pub fn write_blob(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::io::write_atomic(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Reads a blob file into 16-byte aligned storage, as `lenet_core::Model::parse` needs.
///
/// # Errors
/// I/O failures, with the path in the message.
pub fn read_blob(path: &Path) -> Result<AlignedBlob> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(AlignedBlob::new(&bytes))
}

/// Blob bytes in 16-byte aligned storage: lenet-core's one aligned-buffer helper.
pub use lenet_core::aligned::AlignedBytes as AlignedBlob;
