//! The resumable state of a run, `<checkpoint>.state`: everything needed to continue exactly
//! where it stopped (network, optimizer, random-stream position, sample order, history and the
//! progress inside a stopped epoch), in one atomically written file so it is always consistent.
//!
//! Layout: the magic [`STATE_MAGIC`], then three parts, each a u64 little-endian length and its
//! bytes: the JSON [`ResumeMeta`], the network's burn record, the optimizer's record.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};

use super::checkpoint::with_suffix;
use super::{Backend, EpochStats, Phases, TrainConfig};

/// First bytes of a state file.
const STATE_MAGIC: &[u8; 8] = b"LNTSTAT1";

/// Everything besides the two records needed to continue a run exactly.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ResumeMeta {
    /// The configuration of the run: resuming with another one is refused.
    pub(super) config: TrainConfig,
    /// The backend that trained it.
    pub(super) backend: Backend,
    /// Statistics of the complete epochs.
    pub(super) history: Vec<EpochStats>,
    /// Position of the shuffling/augmentation random stream (ChaCha8 word position).
    pub(super) rng_word_pos: String,
    /// The sample order of the last epoch begun (each epoch reshuffles the previous order).
    pub(super) order: Vec<u32>,
    /// Progress inside an epoch stopped with Ctrl-C, to continue from the next step.
    pub(super) partial: Option<PartialEpoch>,
}

/// Where an epoch stands: `order` (in [`ResumeMeta`]) is its sample order, and its first
/// `steps_done` batches are trained. The training loop keeps its running totals in one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PartialEpoch {
    /// 1-based epoch number.
    pub(super) epoch: usize,
    /// Batches trained.
    pub(super) steps_done: usize,
    /// Sum of the batch losses, each weighted by its batch size.
    pub(super) loss_sum: f64,
    /// Correct predictions on the training batches.
    pub(super) correct: usize,
    /// Training examples seen.
    pub(super) seen: usize,
    /// Wall seconds of training in this epoch.
    pub(super) seconds: f64,
    /// Where those seconds went.
    #[serde(default)]
    pub(super) phases: Phases,
}

impl PartialEpoch {
    /// Epoch `epoch` before its first step.
    pub(super) fn start(epoch: usize) -> Self {
        Self {
            epoch,
            steps_done: 0,
            loss_sum: 0.0,
            correct: 0,
            seen: 0,
            seconds: 0.0,
            phases: Phases::default(),
        }
    }
}

/// A state file's content.
#[derive(Debug)]
pub(super) struct SavedState {
    /// Configuration, history and position.
    pub(super) meta: ResumeMeta,
    /// The network's burn record.
    pub(super) model: Vec<u8>,
    /// The optimizer's record.
    pub(super) optim: Vec<u8>,
}

/// `<checkpoint>.state`.
pub(super) fn state_path(checkpoint: &Path) -> PathBuf {
    with_suffix(checkpoint, ".state")
}

/// Writes `<checkpoint>.state` atomically.
///
/// # Errors
/// Serialisation or I/O failures, with the path in the message.
pub(super) fn save_state(
    checkpoint: &Path,
    meta: &ResumeMeta,
    model: &[u8],
    optim: &[u8],
) -> Result<()> {
    let json = serde_json::to_vec(meta)?;
    let sp = state_path(checkpoint);
    crate::io::write_atomic_with(&sp, |f| {
        use std::io::Write;
        f.write_all(STATE_MAGIC)?;
        for part in [&json[..], model, optim] {
            f.write_all(&(part.len() as u64).to_le_bytes())?;
            f.write_all(part)?;
        }
        Ok(())
    })
    .with_context(|| format!("writing {}", sp.display()))
}

/// Reads `<checkpoint>.state`.
///
/// # Errors
/// A missing file ("nothing to resume?"), or one that is not a state file.
pub(super) fn load_state(checkpoint: &Path) -> Result<SavedState> {
    let sp = state_path(checkpoint);
    let bytes = std::fs::read(&sp)
        .with_context(|| format!("reading {} (nothing to resume?)", sp.display()))?;
    let bad = || anyhow!("{} is not a training state file", sp.display());
    let [json, model, optim] = split_parts(&bytes).ok_or_else(bad)?;
    let meta: ResumeMeta = serde_json::from_slice(json).with_context(bad)?;
    Ok(SavedState {
        meta,
        model: model.to_vec(),
        optim: optim.to_vec(),
    })
}

/// The three parts of a state file's bytes, or `None` when the magic is wrong, a length is cut
/// off or a part runs past the end.
fn split_parts(bytes: &[u8]) -> Option<[&[u8]; 3]> {
    let mut rest = bytes.strip_prefix(STATE_MAGIC.as_slice())?;
    let mut parts = [&[][..]; 3];
    for part in &mut parts {
        let (len, tail) = rest.split_first_chunk::<8>()?;
        let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
        if len > tail.len() {
            return None;
        }
        (*part, rest) = tail.split_at(len);
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Recipe;

    fn meta() -> ResumeMeta {
        ResumeMeta {
            config: TrainConfig::recipe(Recipe::Seed),
            backend: Backend::Flex,
            history: Vec::new(),
            rng_word_pos: "12345678901234567890".into(),
            order: vec![2, 0, 1],
            partial: Some(PartialEpoch {
                steps_done: 3,
                loss_sum: 1.5,
                ..PartialEpoch::start(1)
            }),
        }
    }

    #[test]
    fn save_state_then_load_state_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let ck = dir.path().join("m.bpk");
        save_state(&ck, &meta(), b"model", b"optimizer").unwrap();
        let s = load_state(&ck).unwrap();
        assert_eq!(s.model, b"model");
        assert_eq!(s.optim, b"optimizer");
        assert_eq!(s.meta.order, [2, 0, 1]);
        assert_eq!(s.meta.config, TrainConfig::recipe(Recipe::Seed));
        assert_eq!(s.meta.rng_word_pos, "12345678901234567890");
        assert_eq!(s.meta.partial.unwrap().steps_done, 3);
    }

    #[test]
    fn load_state_truncated_is_not_a_state_file() {
        let dir = tempfile::tempdir().unwrap();
        let ck = dir.path().join("m.bpk");
        save_state(&ck, &meta(), b"model", b"optimizer").unwrap();
        let sp = state_path(&ck);
        let bytes = std::fs::read(&sp).unwrap();
        for cut in [0, 7, 8, 15, bytes.len() - 1] {
            std::fs::write(&sp, &bytes[..cut]).unwrap();
            let e = load_state(&ck).unwrap_err().to_string();
            assert!(
                e.ends_with("is not a training state file"),
                "cut {cut}: {e}"
            );
        }
    }

    #[test]
    fn load_state_missing_says_nothing_to_resume() {
        let dir = tempfile::tempdir().unwrap();
        let e = load_state(&dir.path().join("m.bpk")).unwrap_err();
        assert!(e.to_string().contains("nothing to resume?"), "{e}");
    }

    #[test]
    fn split_parts_huge_length_is_rejected() {
        let mut bytes = STATE_MAGIC.to_vec();
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(split_parts(&bytes).is_none());
    }
}
