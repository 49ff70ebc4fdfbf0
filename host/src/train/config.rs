//! What determines a run: backend, optimizer, schedule, recipes and the configuration, and
//! the optimizer and learning rate they give.

use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig, momentum::MomentumConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::Act;

/// Compute backend for burn. Every backend can be named on the command line; one that this
/// binary was built without gives [`BackendError::NotCompiled`] naming the cargo feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn-flex: the fast pure-Rust CPU backend (default).
    #[default]
    Flex,
    /// burn-ndarray: the older CPU backend (cargo feature `ndarray`; much slower to train).
    Ndarray,
    /// wgpu: Vulkan, Metal, DX12 or OpenGL GPUs (cargo feature `wgpu`).
    Wgpu,
    /// CUDA: NVIDIA GPUs (cargo feature `cuda`).
    Cuda,
}

/// Why a [`Backend`] gave no device.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The binary was built without the backend's cargo feature.
    #[error(
        "this host binary was built without the `{feature}` backend: rebuild it with \
         `cargo build --release -p host --features {feature}`, or train on the CPU with \
         `--backend flex`"
    )]
    NotCompiled {
        /// The cargo feature (and the `--backend` value).
        feature: &'static str,
    },
    /// wgpu found no adapter on any graphics API.
    #[error(
        "--backend wgpu: no GPU adapter found on Vulkan, Metal, DX12 or OpenGL ({detail}). \
         Install the GPU's driver (on Linux its Vulkan driver; Mesa's software driver lavapipe, \
         Debian package `mesa-vulkan-drivers`, runs anywhere but slower than the CPU backend), \
         or train on the CPU with `--backend flex`"
    )]
    NoAdapter {
        /// What the graphics stack answered.
        detail: String,
    },
}

/// The GPU adapter a wgpu device runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adapter {
    /// The driver's name for the device, e.g. "NVIDIA H200" or "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    /// Discrete, integrated, virtual, CPU (a software rasterizer) or other.
    pub kind: String,
    /// The graphics API: Vulkan, Metal, Dx12 or Gl.
    pub api: String,
    /// Whether the adapter is a software rasterizer running on the CPU (lavapipe, llvmpipe,
    /// WARP): it works, but slower than `--backend flex`.
    pub software: bool,
}

impl std::fmt::Display for Adapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {})", self.name, self.kind, self.api)
    }
}

impl Backend {
    /// The cargo feature (and `--backend` value) of this backend.
    pub fn feature(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Wgpu => "wgpu",
            Self::Cuda => "cuda",
        }
    }

    /// Whether this binary was built with the backend.
    pub fn compiled(self) -> bool {
        match self {
            Self::Flex => true,
            Self::Ndarray => cfg!(feature = "ndarray"),
            Self::Wgpu => cfg!(feature = "wgpu"),
            Self::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// The burn device for this backend, after checking that it is compiled in and, for wgpu,
    /// that an adapter exists ([`Backend::adapter`]).
    ///
    /// # Errors
    /// [`BackendError::NotCompiled`] or [`BackendError::NoAdapter`].
    pub fn device(self) -> Result<Device, BackendError> {
        if !self.compiled() {
            return Err(BackendError::NotCompiled {
                feature: self.feature(),
            });
        }
        match self {
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            Self::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "wgpu")]
            Self::Wgpu => {
                self.adapter()?;
                Ok(Device::wgpu(burn::tensor::DeviceKind::default()))
            }
            #[cfg(feature = "cuda")]
            Self::Cuda => Ok(Device::cuda(0)),
            _ => Ok(Device::flex()),
        }
    }

    /// The GPU adapter a wgpu device would run on: the one burn's default device picks (the
    /// high-performance adapter of the first graphics API that has one). `None` for the other
    /// backends.
    ///
    /// # Errors
    /// [`BackendError::NotCompiled`] without the `wgpu` feature; [`BackendError::NoAdapter`]
    /// when no graphics API offers an adapter.
    pub fn adapter(self) -> Result<Option<Adapter>, BackendError> {
        if self != Self::Wgpu {
            return Ok(None);
        }
        if !self.compiled() {
            return Err(BackendError::NotCompiled {
                feature: self.feature(),
            });
        }
        #[cfg(feature = "wgpu")]
        {
            super::gpu::adapter().map(Some)
        }
        #[cfg(not(feature = "wgpu"))]
        unreachable!("checked above")
    }
}

/// Optimizer choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// Plain SGD (the tutorial's).
    Sgd,
    /// SGD with momentum 0.9 (no dampening, as Keras).
    Momentum,
    /// Adam (beta 0.9/0.999).
    Adam,
}

/// Learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// The same rate every step.
    Constant,
    /// Cosine decay from the rate to 0 over all steps.
    Cosine,
}

/// A named set of hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipe {
    /// Adam 1e-3, cosine decay, random shifts of up to 2 pixels: the most accurate in 20 epochs.
    #[default]
    Best,
    /// The tutorial's: SGD 0.01, constant rate, no augmentation.
    Seed,
}

/// Everything that determines a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Examples per step.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Optimizer.
    pub optimizer: Optimizer,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Largest random shift (pixels, each axis) applied to training images; 0 disables it.
    pub max_shift: usize,
    /// Hidden-layer activation.
    pub activation: Act,
    /// Seed of the initialisation, the shuffling and the augmentation.
    pub seed: u64,
    /// Train on only the first N training images.
    pub train_limit: Option<usize>,
    /// Evaluate on only the first N test images.
    pub test_limit: Option<usize>,
}

impl TrainConfig {
    /// The hyper-parameters of `recipe`.
    pub fn recipe(recipe: Recipe) -> Self {
        let base = Self {
            epochs: 20,
            batch_size: 128,
            lr: 1e-3,
            optimizer: Optimizer::Adam,
            schedule: Schedule::Cosine,
            max_shift: 2,
            activation: Act::Relu,
            seed: 42,
            train_limit: None,
            test_limit: None,
        };
        match recipe {
            Recipe::Best => base,
            Recipe::Seed => Self {
                lr: 0.01,
                optimizer: Optimizer::Sgd,
                schedule: Schedule::Constant,
                max_shift: 0,
                ..base
            },
        }
    }
}

/// A fresh optimizer of the configured kind.
pub(super) fn optimizer(cfg: &TrainConfig) -> ModuleOptimizer {
    match cfg.optimizer {
        Optimizer::Sgd => SgdConfig::new().init(),
        Optimizer::Momentum => SgdConfig::new()
            .with_momentum(Some(
                MomentumConfig::new().with_momentum(0.9).with_dampening(0.0),
            ))
            .init(),
        Optimizer::Adam => AdamConfig::new().init(),
    }
}

/// The learning rate of step `step` (0-based, counted over the whole run) of `total`.
pub(super) fn lr_at(cfg: &TrainConfig, step: usize, total: usize) -> f64 {
    match cfg.schedule {
        Schedule::Constant => cfg.lr,
        Schedule::Cosine => {
            let t = step as f64 / total.max(1) as f64;
            cfg.lr * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lr_at_cosine_decays_from_the_rate_to_zero() {
        let cfg = TrainConfig::recipe(Recipe::Best);
        assert_eq!(lr_at(&cfg, 0, 100), cfg.lr);
        assert!((lr_at(&cfg, 50, 100) - cfg.lr / 2.0).abs() < 1e-12);
        assert!(lr_at(&cfg, 100, 100).abs() < 1e-12);
    }

    #[test]
    fn lr_at_constant_is_the_rate() {
        let cfg = TrainConfig::recipe(Recipe::Seed);
        assert_eq!(lr_at(&cfg, 0, 10), 0.01);
        assert_eq!(lr_at(&cfg, 9, 10), 0.01);
    }
}
