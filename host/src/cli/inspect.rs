//! `host inspect`: describe a blob (sections, shapes, dtypes, quantization parameters, CRC),
//! as a table or as JSON.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use host::export;
use lenet_core::Model;

use super::source::parse_blob;

/// Options of `host inspect`.
#[derive(Args)]
pub struct InspectArgs {
    /// The blob.
    pub blob: PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

impl InspectArgs {
    /// Runs `host inspect`.
    ///
    /// # Errors
    /// An unreadable or malformed blob.
    pub fn run(self) -> Result<()> {
        let path = &self.blob;
        let blob = export::read_blob(path)?;
        let m = parse_blob(&blob, path)?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&json(&m))?);
        } else {
            table(&m, &self.blob);
        }
        Ok(())
    }
}

/// The blob as JSON.
fn json(m: &Model<'_>) -> serde_json::Value {
    let h = m.sections().header();
    let sections: Vec<_> = m.sections().iter().collect();
    serde_json::json!({
        "version": h.version,
        "model": h.model,
        "activation": format!("{:?}", h.activation).to_lowercase(),
        "total_len": h.total_len,
        "crc32": format!("{:#010x}", h.crc32),
        "f32": m.f32().is_some(),
        "int8": m.int8().is_some(),
        "sections": sections.iter().map(|s| serde_json::json!({
            "id": s.id.id(), "name": s.id.name(), "dtype": format!("{:?}", s.dtype).to_lowercase(),
            "shape": s.dims().into_iter().take_while(|&d| d != 0).collect::<Vec<_>>(), "offset": s.offset, "len": s.bytes.len(),
        })).collect::<Vec<_>>(),
        "quant": m.int8().map(|q| serde_json::json!({
            "scales": q.scales(), "zero_points": q.zero_points,
        })),
    })
}

/// Prints the blob as a table of sections, then the int8 tensors' parameters.
fn table(m: &Model<'_>, path: &std::path::Path) {
    let h = m.sections().header();
    let sections: Vec<_> = m.sections().iter().collect();
    println!(
        "{}: lenet blob v{}, model {}, {:?}, {} bytes, CRC-32 {:#010x} (ok)",
        path.display(),
        h.version,
        h.model,
        h.activation,
        h.total_len,
        h.crc32
    );
    println!(
        "{:<20} {:>4} {:<5} {:<16} {:>9} {:>9}",
        "section", "id", "dtype", "shape", "offset", "bytes"
    );
    for s in &sections {
        let shape = s
            .dims()
            .into_iter()
            .take_while(|&d| d != 0)
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("x");
        println!(
            "{:<20} {:>4} {:<5} {:<16} {:>9} {:>9}",
            s.id.name(),
            s.id.id(),
            format!("{:?}", s.dtype).to_lowercase(),
            shape,
            s.offset,
            s.bytes.len()
        );
    }
    if let Some(q) = m.int8() {
        let names = ["input", "pool1", "pool2", "fc1", "logits"];
        println!("int8 tensors:");
        for ((n, s), zp) in names.iter().zip(q.scales()).zip(q.zero_points) {
            println!("  {n:<7} scale {s:.6e}  zero point {zp}");
        }
        println!(
            "  fc1 weights: {} bits{}",
            q.fc1.weight_bits(),
            if q.fc1.weight_bits() == 4 {
                " (the compact blob: two per byte, docs/weight-blob.md)"
            } else {
                ""
            }
        );
        for (name, shifts) in [
            ("conv1", q.conv1.requant.shifts()),
            ("conv2", q.conv2.requant.shifts()),
            ("fc1", q.fc1.requant().shifts()),
            ("fc2", q.fc2.requant.shifts()),
        ] {
            let (lo, hi) = shifts
                .iter()
                .fold((i32::MAX, i32::MIN), |(a, b), &s| (a.min(s), b.max(s)));
            if let [s] = shifts {
                println!("  {name:<7} requant per tensor, shift {s}");
            } else {
                println!("  {name:<7} requant per channel, shifts {lo}..={hi}");
            }
        }
    }
}
