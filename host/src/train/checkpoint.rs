//! Checkpoints: the burn record of the network (`<path>`) and its metadata (`<path>.json`:
//! configuration and per-epoch history), each written atomically.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::{module::Module, prelude::*, store::ModuleRecord, tensor::Bytes};
use serde::{Deserialize, Serialize};

use super::{Backend, EpochStats, TrainConfig};
use crate::model::{Act, LeNet};

/// Metadata stored beside a checkpoint (`<checkpoint>.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// The configuration that trained the weights.
    pub config: TrainConfig,
    /// Per-epoch statistics.
    pub history: Vec<EpochStats>,
    /// The backend that trained it.
    pub backend: Backend,
}

/// `<path>.json`: the metadata file of checkpoint `path`.
fn meta_path(path: &Path) -> PathBuf {
    with_suffix(path, ".json")
}

/// `path` with `suffix` appended to its file name (`lenet.bpk` → `lenet.bpk.json`).
pub(super) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Saves `model` as a burnpack checkpoint at `path` and its metadata at `path.json`, atomically.
///
/// # Errors
/// Serialisation or I/O failures.
pub fn save_checkpoint(model: &LeNet, meta: &CheckpointMeta, path: &Path) -> Result<()> {
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .context("serialising the checkpoint")?;
    crate::io::write_atomic(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    let json = serde_json::to_vec_pretty(meta)?;
    let mp = meta_path(path);
    crate::io::write_atomic(&mp, &json).with_context(|| format!("writing {}", mp.display()))?;
    Ok(())
}

/// Reads the metadata (`<checkpoint>.json`) of a checkpoint.
///
/// # Errors
/// A missing or malformed metadata file.
pub fn load_meta(path: &Path) -> Result<CheckpointMeta> {
    let mp = meta_path(path);
    let j = std::fs::read(&mp).with_context(|| format!("reading {}", mp.display()))?;
    serde_json::from_slice(&j).with_context(|| format!("parsing {}", mp.display()))
}

/// Loads a checkpoint written by [`save_checkpoint`]. The activation comes from the metadata
/// file when present, else from `fallback`.
///
/// # Errors
/// A missing or unreadable file, or one that does not hold this network.
pub fn load_checkpoint(
    path: &Path,
    fallback: Act,
    device: &Device,
) -> Result<(LeNet, Option<CheckpointMeta>)> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading checkpoint {}", path.display()))?;
    let meta: Option<CheckpointMeta> = match std::fs::read(meta_path(path)) {
        Ok(j) => Some(serde_json::from_slice(&j).context("parsing checkpoint metadata")?),
        Err(_) => None,
    };
    let act = meta.as_ref().map_or(fallback, |m| m.config.activation);
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .with_context(|| format!("{} is not a burnpack checkpoint", path.display()))?;
    let model = LeNet::new(act, device)
        .try_load_record(record)
        .with_context(|| format!("{} does not hold this network's weights", path.display()))?;
    Ok((model, meta))
}
