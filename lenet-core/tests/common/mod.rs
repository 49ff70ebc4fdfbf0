//! Synthetic blobs for the core's tests.
#![allow(dead_code)]

use std::ops::Range;

use lenet_core::blob::{
    Activation, BlobWriter, CRC_START, Header, SectionEntry, SectionId, crc32, entry_offset,
};

/// A small deterministic pseudo-random generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    pub fn f32(&mut self, scale: f32) -> f32 {
        (self.range(-1_000_000, 1_000_000) as f32 / 1_000_000.0) * scale
    }
}

/// Section contents that make a plausible, valid model of both precisions.
pub fn writer(seed: u64, f32_set: bool, int8_set: bool) -> BlobWriter {
    writer_with(seed, f32_set, int8_set, false)
}

/// As [`writer`]; with `dense_per_tensor` fc1 and fc2 get one requantization pair each.
pub fn writer_with(seed: u64, f32_set: bool, int8_set: bool, dense_per_tensor: bool) -> BlobWriter {
    let mut r = Rng(seed | 1);
    let mut w = BlobWriter::new(Activation::Relu);
    if f32_set {
        for &s in &SectionId::F32_SET {
            let fan = (s.elements() as f32).sqrt().max(1.0);
            let data: Vec<f32> = (0..s.elements()).map(|_| r.f32(1.0 / fan)).collect();
            w.add_f32(s, &data).unwrap();
        }
    }
    if int8_set {
        use SectionId as S;
        for [wi, bi, ri] in [
            [S::Conv1WeightQ, S::Conv1BiasQ, S::Conv1Requant],
            [S::Conv2WeightQ, S::Conv2BiasQ, S::Conv2Requant],
            [S::Fc1WeightQ, S::Fc1BiasQ, S::Fc1Requant],
            [S::Fc2WeightQ, S::Fc2BiasQ, S::Fc2Requant],
        ] {
            let weights: Vec<i8> = (0..wi.elements())
                .map(|_| r.range(-127, 127) as i8)
                .collect();
            w.add_i8(wi, &weights).unwrap();
            let bias: Vec<i32> = (0..bi.elements())
                .map(|_| r.range(-5000, 5000) as i32)
                .collect();
            w.add_i32(bi, &bias).unwrap();
            let per_tensor = dense_per_tensor && matches!(ri, S::Fc1Requant | S::Fc2Requant);
            let oc = if per_tensor { 1 } else { bi.elements() };
            let mut rq: Vec<i32> = (0..oc)
                .map(|_| r.range(1 << 30, i32::MAX as i64) as i32)
                .collect();
            rq.extend((0..oc).map(|_| r.range(-14, -9) as i32));
            w.add_i32(ri, &rq).unwrap();
        }
        w.add_i32(S::ZeroPoints, &[-128, -128, -128, -128, 3])
            .unwrap();
        w.add_f32(S::Scales, &[1.0 / 255.0, 0.02, 0.03, 0.04, 0.1])
            .unwrap();
    }
    w
}

/// A finished blob of both precisions.
pub fn blob(seed: u64) -> Vec<u8> {
    writer(seed, true, true).finish().unwrap()
}

/// A finished blob of both precisions whose dense layers are requantized per tensor.
pub fn blob_dense_per_tensor(seed: u64) -> Vec<u8> {
    writer_with(seed, true, true, true).finish().unwrap()
}

/// Recomputes the header CRC after a mutation.
pub fn fix_crc(b: &mut [u8]) {
    let total = u32::from_le_bytes(b[Header::TOTAL_LEN_AT].try_into().unwrap()) as usize;
    let total = total.min(b.len());
    if total >= CRC_START {
        let c = crc32(&b[CRC_START..total]);
        b[Header::CRC32_AT].copy_from_slice(&c.to_le_bytes());
    }
}

/// The byte range `field` of the table entry that starts at `entry`.
pub fn at(entry: usize, field: Range<usize>) -> Range<usize> {
    entry + field.start..entry + field.end
}

/// Byte offset of the table entry of section `id`.
pub fn entry_of(b: &[u8], id: SectionId) -> usize {
    let count = u16::from_le_bytes(b[Header::SECTION_COUNT_AT].try_into().unwrap()) as usize;
    (0..count)
        .map(|i| entry_offset(i).unwrap())
        .find(|&e| u16::from_le_bytes(b[at(e, SectionEntry::ID_AT)].try_into().unwrap()) == id.id())
        .expect("section present")
}

/// Data offset of section `id`.
pub fn data_of(b: &[u8], id: SectionId) -> usize {
    let e = entry_of(b, id);
    u32::from_le_bytes(b[at(e, SectionEntry::OFFSET_AT)].try_into().unwrap()) as usize
}
