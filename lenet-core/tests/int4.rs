//! int4 weights (the compact blob): the packed layout of docs/weight-blob.md, the parser's checks
//! of an int4 `fc1.weight.q`, the int4 dense kernel against its reference twin, the committed
//! compact fixture against its golden vectors, and mutated int4 blobs never panicking.

mod common;

use common::{Rng, fix_crc};
use lenet_core::aligned::AlignedBytes;
use lenet_core::blob::{BlobError, BlobWriter, DType, SectionId, i4};
use lenet_core::kernels::dense::dense_i4;
use lenet_core::kernels::{QuantLayer, Requant};
use lenet_core::reference::dense_i4_ref;
use lenet_core::shape::{FC1, FLAT};
use lenet_core::{Fc1, I8Model, Model, ScratchI8};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn packing_follows_the_documented_layout() {
    // The example of docs/weight-blob.md.
    assert_eq!(
        i4::pack_row(&[1, -2, 3, -4, 5, -6, 7, 0]),
        vec![0x51, 0xAE, 0x73, 0x0C]
    );
    // A row of 2,450 ones: 306 whole groups, then 2 elements in the low nibbles of bytes 0 and 1.
    let row = i4::pack_row(&[1; FLAT]);
    assert_eq!(row.len(), 1228);
    assert!(row[..1224].iter().all(|&b| b == 0x11));
    assert_eq!(&row[1224..], &[0x01, 0x01, 0x00, 0x00]);
    // get() inverts pack_row over the whole range, at every position of a group.
    let mut r = Rng(5);
    for cols in [1usize, 7, 8, 9, 21, 2450] {
        let v: Vec<i8> = (0..cols).map(|_| r.range(-8, 7) as i8).collect();
        let p = i4::pack_row(&v);
        assert_eq!(p.len(), i4::row_bytes(cols));
        for (k, &x) in v.iter().enumerate() {
            assert_eq!(i4::get(&p, k), x, "cols {cols}, element {k}");
        }
    }
}

/// An int8-only blob whose fc1 weights are int4 values from `fc1`.
fn int4_blob(seed: u64, fc1: &[i8]) -> Vec<u8> {
    let mut w: BlobWriter = common::writer_with(seed, false, false, false);
    let mut r = Rng(seed | 1);
    use SectionId as S;
    for [wi, bi, ri] in [
        [S::Conv1WeightQ, S::Conv1BiasQ, S::Conv1Requant],
        [S::Conv2WeightQ, S::Conv2BiasQ, S::Conv2Requant],
        [S::Fc1WeightQ, S::Fc1BiasQ, S::Fc1Requant],
        [S::Fc2WeightQ, S::Fc2BiasQ, S::Fc2Requant],
    ] {
        if wi == S::Fc1WeightQ {
            w.add_i4(wi, fc1).unwrap();
        } else {
            let weights: Vec<i8> = (0..wi.elements())
                .map(|_| r.range(-127, 127) as i8)
                .collect();
            w.add_i8(wi, &weights).unwrap();
        }
        let bias: Vec<i32> = (0..bi.elements())
            .map(|_| r.range(-5000, 5000) as i32)
            .collect();
        w.add_i32(bi, &bias).unwrap();
        let oc = bi.elements();
        let mut rq: Vec<i32> = (0..oc)
            .map(|_| r.range(1 << 30, i32::MAX as i64) as i32)
            .collect();
        rq.extend((0..oc).map(|_| r.range(-12, -4) as i32));
        w.add_i32(ri, &rq).unwrap();
    }
    w.add_i32(S::ZeroPoints, &[-128, -128, -128, -128, 3])
        .unwrap();
    w.add_f32(S::Scales, &[1.0 / 255.0, 0.01, 0.02, 0.05, 0.2])
        .unwrap();
    w.finish().unwrap()
}

fn random_fc1(seed: u64) -> Vec<i8> {
    let mut r = Rng(seed);
    (0..FC1 * FLAT).map(|_| r.range(-7, 7) as i8).collect()
}

/// Offset of `fc1.weight.q`'s data in a blob written by `BlobWriter`.
fn fc1_offset(b: &[u8]) -> usize {
    let a = AlignedBytes::new(b);
    let s = lenet_core::blob::Sections::parse(a.bytes()).unwrap();
    let v = s.iter().find(|v| v.id == SectionId::Fc1WeightQ).unwrap();
    v.offset as usize
}

#[test]
fn int4_fc1_parses_into_views_of_the_packed_rows() {
    let fc1 = random_fc1(11);
    let bytes = int4_blob(3, &fc1);
    let a = AlignedBytes::new(&bytes);
    let m = Model::parse(a.bytes()).unwrap();
    let q = m.int8().unwrap();
    assert_eq!(q.fc1.weight_bits(), 4);
    let Fc1::I4(layer) = &q.fc1 else {
        panic!("fc1 is int8")
    };
    let rb = i4::row_bytes(FLAT);
    for o in [0, 1, 250, 499] {
        let row = &layer.weights[o * rb..(o + 1) * rb];
        for i in [0, 3, 4, 7, 8, 2447, 2448, 2449] {
            assert_eq!(i4::get(row, i), fc1[o * FLAT + i]);
        }
    }
    let sections = m.sections();
    let v = sections
        .iter()
        .find(|v| v.id == SectionId::Fc1WeightQ)
        .unwrap();
    assert_eq!(v.dtype, DType::I4);
    assert_eq!(v.bytes.len(), 614_000);
    // The int8-only parser agrees.
    assert!(I8Model::parse(a.bytes()).is_ok());
}

#[test]
fn the_parser_rejects_minus_eight_and_padding_nibbles() {
    let fc1 = random_fc1(12);
    let good = int4_blob(4, &fc1);
    let at = fc1_offset(&good);
    let rb = i4::row_bytes(FLAT);
    let parse = |b: &[u8]| {
        let a = AlignedBytes::new(b);
        Model::parse(a.bytes()).map(|_| ())
    };
    // Element 5 of row 2 (byte 1, high nibble) set to 0x8 (-8).
    let mut b = good.clone();
    let byte = at + 2 * rb + 1;
    b[byte] = (b[byte] & 0x0F) | 0x80;
    fix_crc(&mut b);
    assert_eq!(
        parse(&b),
        Err(BlobError::BadQuantParam {
            section: SectionId::Fc1WeightQ,
            index: (2 * rb * 2 + 5) as u32,
        })
    );
    // A padding nibble of row 0's last group (element 2451: byte 1227, low nibble).
    let mut b = good.clone();
    b[at + 1227] |= 0x01;
    fix_crc(&mut b);
    assert_eq!(
        parse(&b),
        Err(BlobError::BadQuantParam {
            section: SectionId::Fc1WeightQ,
            index: 2451,
        })
    );
}

#[test]
fn dtype_4_is_accepted_only_for_fc1_weights() {
    let bytes = int4_blob(5, &random_fc1(13));
    // The section table entry of conv2.weight.q (id 20) claiming dtype 4: BadDType, the error a
    // reader without int4 gives for fc1.weight.q.
    let mut b = bytes.clone();
    let table = 32;
    let entry = (0..14)
        .map(|i| table + 32 * i)
        .find(|&e| u16::from_le_bytes([b[e], b[e + 1]]) == SectionId::Conv2WeightQ.id())
        .unwrap();
    b[entry + 2] = 4;
    fix_crc(&mut b);
    let a = AlignedBytes::new(&b);
    let err = Model::parse(a.bytes()).unwrap_err();
    assert_eq!(
        err,
        BlobError::BadDType {
            section: SectionId::Conv2WeightQ,
            found: 4,
        }
    );
    assert_eq!(
        err.to_string(),
        "section conv2.weight.q (id 20): dtype code 4 is not the one required"
    );
    // fc1.weight.q with dtype 4 but the int8 length: LengthMismatch.
    let mut w = BlobWriter::new(lenet_core::blob::Activation::Relu);
    assert!(w.add_i4(SectionId::Fc2WeightQ, &[0; 5000]).is_err());
    assert!(w.add_bytes(SectionId::Fc1WeightQ, vec![0; 614_000]).is_ok());
}

#[test]
fn compact_fixture_matches_its_golden_vectors_bit_for_bit() {
    let blob = AlignedBytes::new(&fixture("lenet-int4.blob"));
    assert!(blob.bytes().len() <= 700_000);
    let q = I8Model::parse(blob.bytes()).expect("compact blob parses");
    assert_eq!(q.fc1.weight_bits(), 4);
    let bytes = fixture("golden-int4.bin");
    let golden = lenet_core::golden::Golden::parse(&bytes).expect("whole records");
    let mut scratch = ScratchI8::new();
    for (i, rec) in golden.records().enumerate() {
        let pixels = rec.image();
        let p = q.predict(pixels, &mut scratch);
        assert_eq!(p.logits, rec.logits(), "record {i}");
        assert_eq!(p.digit, rec.digit(), "record {i}");
        assert_eq!(q.forward_portable(pixels, &mut scratch), p.logits);
    }
    assert_eq!(golden.len(), 20);
}

/// One random int4 dense case against the reference twin.
fn dense_case<const IN: usize, const OUT: usize, const WN: usize, const WB: usize>(
    seed: u64,
    relu: bool,
    per_tensor: bool,
) -> Result<(), TestCaseError> {
    let mut r = Rng(seed | 1);
    let values: Vec<i8> = (0..OUT * IN).map(|_| r.range(-7, 7) as i8).collect();
    let packed: Vec<u8> = values.chunks(IN).flat_map(i4::pack_row).collect();
    let weights: &[u8; WB] = packed.as_slice().try_into().unwrap();
    let input: [i8; IN] = core::array::from_fn(|_| r.range(-128, 127) as i8);
    let bias: [i32; OUT] = core::array::from_fn(|_| r.range(-(1 << 20), 1 << 20) as i32);
    let multiplier: [i32; OUT] = core::array::from_fn(|_| r.range(1 << 30, i32::MAX as i64) as i32);
    let shift: [i32; OUT] = core::array::from_fn(|_| r.range(-16, -6) as i32);
    let n = if per_tensor { 1 } else { OUT };
    let (in_zp, out_zp) = (r.range(-128, 127) as i32, r.range(-128, 127) as i32);
    let act_min = if relu { out_zp } else { -128 };
    let layer: QuantLayer<'_, OUT, WN, [u8; WB]> = QuantLayer {
        weights,
        bias: &bias,
        requant: Requant::from_rows(&multiplier[..n], &shift[..n]).unwrap(),
        in_zp,
        out_zp,
        act_min,
        act_max: 127,
    };
    let mut fast = [0i8; OUT];
    dense_i4(&input, &layer, &mut fast);
    let (m, s): (Vec<i32>, Vec<i32>) = (0..OUT).map(|o| layer.requant.get(o)).unzip();
    let mut want = [0i8; OUT];
    dense_i4_ref(
        &input, &packed, &bias, &m, &s, in_zp, out_zp, act_min, 127, &mut want,
    );
    prop_assert_eq!(fast, want);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Small shapes: a partial last group (21 = 2·8 + 5), fewer inputs than a group, an odd row
    /// count (the last pair overlaps).
    #[test]
    fn dense_i4_matches_reference(seed in any::<u64>(), relu in any::<bool>(), pt in any::<bool>()) {
        dense_case::<21, 5, { 5 * 21 }, { 5 * 12 }>(seed, relu, pt)?;
        dense_case::<5, 2, 10, 8>(seed, relu, pt)?;
        dense_case::<64, 3, 192, 96>(seed, relu, pt)?;
    }

    /// fc1's shape.
    #[test]
    fn dense_i4_fc1_shape_matches_reference(seed in any::<u64>(), pt in any::<bool>()) {
        dense_case::<FLAT, 6, { 6 * FLAT }, { 6 * 1228 }>(seed, true, pt)?;
    }

    /// Random byte changes anywhere in the compact fixture (CRC repaired) never panic the
    /// parser, and a blob that still parses runs.
    #[test]
    fn mutated_int4_blobs_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut b = fixture("lenet-int4.blob");
        for (at, v) in edits {
            let i = at % b.len();
            b[i] = v;
        }
        fix_crc(&mut b);
        let a = AlignedBytes::new(&b);
        if let Ok(m) = Model::parse(a.bytes())
            && let Some(q) = m.int8()
        {
            let mut s = ScratchI8::new();
            let _ = q.forward(&[7u8; 784], &mut s);
        }
    }
}
