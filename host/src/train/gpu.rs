//! Which GPU adapter `--backend wgpu` runs on, asked before training starts so that a machine
//! without one gets [`BackendError::NoAdapter`] instead of a panic inside the runtime.
//!
//! The choice mirrors burn's default wgpu device: the graphics APIs in the runtime's order
//! (Metal on macOS; Vulkan, DX12, OpenGL elsewhere), the first that offers a hardware adapter
//! (else the first that offers any), and on it the high-performance adapter.

use burn::backend::wgpu::wgpu;

use super::config::{Adapter, BackendError};

/// The graphics APIs burn's wgpu runtime tries, in its order.
fn chain() -> &'static [wgpu::Backend] {
    if cfg!(target_os = "macos") {
        &[wgpu::Backend::Metal]
    } else {
        &[
            wgpu::Backend::Vulkan,
            wgpu::Backend::Dx12,
            wgpu::Backend::Gl,
        ]
    }
}

/// An instance limited to `api`.
fn instance(api: wgpu::Backend) -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: api.into(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    })
}

/// The adapter `--backend wgpu` will use.
///
/// # Errors
/// [`BackendError::NoAdapter`] when no graphics API offers one.
pub(super) fn adapter() -> Result<Adapter, BackendError> {
    let enabled = wgpu::Instance::enabled_backend_features();
    let mut tried = Vec::new();
    let mut chosen = None;
    for &api in chain() {
        if !enabled.contains(api.into()) {
            continue;
        }
        let found = pollster::block_on(instance(api).enumerate_adapters(api.into()));
        tried.push(format!("{api:?}: {} adapter(s)", found.len()));
        let hardware = found
            .iter()
            .any(|a| a.get_info().device_type != wgpu::DeviceType::Cpu);
        if hardware {
            chosen = Some(api);
            break;
        }
        if chosen.is_none() && !found.is_empty() {
            chosen = Some(api);
        }
    }
    let Some(api) = chosen else {
        return Err(BackendError::NoAdapter {
            detail: if tried.is_empty() {
                "no graphics API is compiled in".to_owned()
            } else {
                tried.join(", ")
            },
        });
    };
    let options = wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    };
    let adapter = pollster::block_on(instance(api).request_adapter(&options)).map_err(|e| {
        BackendError::NoAdapter {
            detail: format!("{api:?}: {e}"),
        }
    })?;
    let info = adapter.get_info();
    Ok(Adapter {
        name: info.name,
        kind: format!("{:?}", info.device_type),
        api: format!("{:?}", info.backend),
        software: info.device_type == wgpu::DeviceType::Cpu,
    })
}
