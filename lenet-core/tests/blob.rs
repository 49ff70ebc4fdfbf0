//! The blob reader: round trip, one test per `BlobError` variant, never-panics properties.

mod common;

use common::{at, blob, blob_dense_per_tensor, data_of, entry_of, fix_crc, writer, writer_with};
use lenet_core::aligned::AlignedBytes;
use lenet_core::blob::{
    Activation, BlobError, BlobWriter, Header, SectionEntry, SectionId, VERSION, WriteError,
};
use lenet_core::{I8Model, Model, ScratchI8, shape};
use proptest::prelude::*;

fn parse(b: &[u8]) -> Result<(), BlobError> {
    let a = AlignedBytes::new(b);
    Model::parse(a.bytes()).map(|_| ())
}

/// Mutates a valid blob, repairs the CRC, and parses it.
fn parse_mutated(f: impl FnOnce(&mut Vec<u8>)) -> Result<(), BlobError> {
    let mut b = blob(7);
    f(&mut b);
    fix_crc(&mut b);
    parse(&b)
}

#[test]
fn crc32_is_the_documented_crc() {
    // docs/weight-blob.md: the check value of CRC-32/ISO-HDLC, and one more known value.
    assert_eq!(lenet_core::blob::crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(lenet_core::blob::crc32(b""), 0);
    assert_eq!(
        lenet_core::blob::crc32(b"The quick brown fox jumps over the lazy dog"),
        0x414F_A339
    );
}

#[test]
fn round_trip_views_equal_written_values() {
    let w = writer(3, true, true);
    let bytes = w.finish().unwrap();
    let a = AlignedBytes::new(&bytes);
    let m = Model::parse(a.bytes()).unwrap();
    let f = m.f32().unwrap();
    let q = m.int8().unwrap();
    // Views point into the original buffer: zero copy.
    let range = a.bytes().as_ptr_range();
    assert!(range.contains(&(f.fc1_w.as_ptr() as *const u8)));
    assert!(range.contains(&(q.fc1.int8().unwrap().weights.as_ptr() as *const u8)));
    // Values equal the section bytes.
    let off = data_of(&bytes, SectionId::Conv2Bias);
    let expect: Vec<f32> = bytes[off..off + 200]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(&f.conv2_b[..], &expect[..]);
    assert_eq!(q.zero_points, &[-128, -128, -128, -128, 3]);
    assert_eq!(q.fc2.act_min, -128, "logits are not clamped by ReLU");
    assert_eq!(
        q.fc1.int8().unwrap().act_min,
        -128,
        "fc1 ReLU clamps at its zero point"
    );
    assert_eq!(m.sections().iter().count(), 22);
    assert_eq!(bytes.len() % 4, 0);
}

#[test]
fn parse_accepts_single_precision_blobs_and_trailing_bytes() {
    let f = writer(1, true, false).finish().unwrap();
    let a = AlignedBytes::new(&f);
    let m = Model::parse(a.bytes()).unwrap();
    assert!(m.f32().is_some() && m.int8().is_none());
    let mut q = writer(1, false, true).finish().unwrap();
    let len = q.len();
    q.extend_from_slice(&[0xff; 64]); // a blob at the start of an erased flash partition
    let a = AlignedBytes::new(&q);
    let m = Model::parse(a.bytes()).unwrap();
    assert!(m.f32().is_none() && m.int8().is_some());
    assert_eq!(m.sections().header().total_len as usize, len);
    assert!(len < 1_260_000 + 4096, "int8 blob is {len} bytes");
}

#[test]
fn parse_unaligned_buffer_is_rejected() {
    let b = blob(1);
    let shifted = AlignedBytes::with_offset(&b, 1);
    assert_eq!(
        Model::parse(shifted.bytes()).err(),
        Some(BlobError::UnalignedBuffer { misalignment: 1 })
    );
}

#[test]
fn parse_truncated_header_is_too_short() {
    assert_eq!(
        parse(&blob(1)[..20]),
        Err(BlobError::TooShort {
            needed: 32,
            got: 20
        })
    );
}

#[test]
fn parse_truncated_body_is_too_short() {
    let b = blob(1);
    let r = parse(&b[..b.len() - 1]);
    assert_eq!(
        r,
        Err(BlobError::TooShort {
            needed: b.len() as u32,
            got: b.len() as u32 - 1
        })
    );
}

#[test]
fn parse_bad_magic_is_rejected() {
    assert_eq!(
        parse_mutated(|b| b[Header::MAGIC_AT.start] = b'X'),
        Err(BlobError::BadMagic { found: *b"XNET" })
    );
}

#[test]
fn parse_newer_version_is_unsupported() {
    let r = parse_mutated(|b| b[Header::VERSION_AT.start] = 2);
    assert_eq!(
        r,
        Err(BlobError::UnsupportedVersion {
            found: 2,
            supported: VERSION
        })
    );
    assert!(r.unwrap_err().to_string().contains("newer"));
}

#[test]
fn parse_unknown_model_is_unsupported() {
    assert_eq!(
        parse_mutated(|b| b[Header::MODEL_AT.start] = 9),
        Err(BlobError::UnsupportedModel { found: 9 })
    );
}

#[test]
fn parse_bad_activation_is_rejected() {
    assert_eq!(
        parse_mutated(|b| b[Header::ACTIVATION_AT] = 5),
        Err(BlobError::BadActivation { found: 5 })
    );
}

#[test]
fn parse_tanh_with_int8_is_rejected() {
    let tanh = |b: &mut Vec<u8>| b[Header::ACTIVATION_AT] = Activation::Tanh.code();
    let r = parse_mutated(tanh);
    assert_eq!(
        r,
        Err(BlobError::Int8NeedsRelu {
            found: Activation::Tanh
        })
    );
    assert_eq!(
        r.unwrap_err().to_string(),
        "the int8 model needs ReLU, but the header's activation is tanh (code 1)"
    );
    // The int8-only parser rejects it the same way; an f32-only tanh blob is fine.
    let mut b = blob(7);
    tanh(&mut b);
    fix_crc(&mut b);
    let a = AlignedBytes::new(&b);
    assert_eq!(
        I8Model::parse(a.bytes()).map(|_| ()),
        Err(BlobError::Int8NeedsRelu {
            found: Activation::Tanh
        })
    );
    let mut f = writer(7, true, false).finish().unwrap();
    tanh(&mut f);
    fix_crc(&mut f);
    let a = AlignedBytes::new(&f);
    assert_eq!(
        Model::parse(a.bytes()).unwrap().activation(),
        Activation::Tanh
    );
}

#[test]
fn parse_reserved_bytes_must_be_zero() {
    for reserved in Header::RESERVED_AT {
        for at in reserved {
            assert_eq!(
                parse_mutated(|b| b[at] = 1),
                Err(BlobError::ReservedNonZero { offset: at as u32 })
            );
        }
    }
    let e = entry_of(&blob(7), SectionId::Fc1Bias);
    for at in at(e, SectionEntry::RESERVED_AT) {
        assert_eq!(
            parse_mutated(|b| b[at] = 1),
            Err(BlobError::ReservedNonZero { offset: at as u32 })
        );
    }
}

/// Moves section `id`'s data from its place to the end of the blob (at the next multiple of 16,
/// the total length updated) and zeroes the bytes it leaves.
fn move_to_end(b: &mut Vec<u8>, id: SectionId) -> usize {
    let (e, old, len) = (entry_of(b, id), data_of(b, id), id.byte_len());
    let data = b[old..old + len].to_vec();
    b[old..old + len].fill(0);
    let new = lenet_core::blob::align_up(b.len()).unwrap();
    b.resize(new, 0);
    b.extend_from_slice(&data);
    let total = b.len() as u32;
    b[Header::TOTAL_LEN_AT].copy_from_slice(&total.to_le_bytes());
    b[at(e, SectionEntry::OFFSET_AT)].copy_from_slice(&(new as u32).to_le_bytes());
    old
}

#[test]
fn parse_non_zero_gap_is_rejected() {
    let b0 = blob(7);
    // The alignment padding after a section whose length is not a multiple of 16.
    let a = AlignedBytes::new(&b0);
    let m = Model::parse(a.bytes()).unwrap();
    let mut spans: Vec<(usize, usize)> = m
        .sections()
        .iter()
        .map(|v| (v.offset as usize, v.offset as usize + v.bytes.len()))
        .collect();
    spans.sort();
    let padding = spans
        .windows(2)
        .map(|w| w[0].1..w[1].0)
        .find(|gap| !gap.is_empty())
        .expect("the blob has alignment padding");
    for at in [padding.start, padding.end - 1] {
        assert_eq!(
            parse_mutated(|b| b[at] = 0x5a),
            Err(BlobError::NonZeroGap {
                offset: at as u32,
                found: 0x5a
            })
        );
    }
    // A gap between the table and the first section in address order: conv1.weight, first in
    // the table, moved to the end. Zero, it is fine (table order and address order may differ).
    let table_end = lenet_core::blob::table_end(22).unwrap();
    assert_eq!(data_of(&b0, SectionId::Conv1Weight), table_end);
    assert_eq!(
        parse_mutated(|b| {
            move_to_end(b, SectionId::Conv1Weight);
        }),
        Ok(())
    );
    assert_eq!(
        parse_mutated(|b| {
            let old = move_to_end(b, SectionId::Conv1Weight);
            b[old + 100] = 7;
        }),
        Err(BlobError::NonZeroGap {
            offset: table_end as u32 + 100,
            found: 7
        })
    );
    // A gap after the last section, up to the total length.
    let r = parse_mutated(|b| {
        b.extend_from_slice(&[0, 0, 0, 9]);
        let total = b.len() as u32;
        b[Header::TOTAL_LEN_AT].copy_from_slice(&total.to_le_bytes());
    });
    assert_eq!(
        r,
        Err(BlobError::NonZeroGap {
            offset: b0.len() as u32 + 3,
            found: 9
        })
    );
    // Bytes past the total length are not part of the blob and may be anything.
    assert_eq!(parse_mutated(|b| b.extend_from_slice(&[0xff; 16])), Ok(()));
    assert_eq!(
        BlobError::NonZeroGap {
            offset: 1000,
            found: 0xff
        }
        .to_string(),
        "byte 1000 lies between sections and must be zero, but is 0xff"
    );
}

#[test]
fn committed_fixtures_have_zero_gaps_and_parse() {
    for name in ["lenet-int8.blob", "lenet-int4.blob"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(name);
        let bytes = std::fs::read(&path).unwrap();
        let a = AlignedBytes::new(&bytes);
        let m = Model::parse(a.bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(m.int8().is_some(), "{name}");
    }
}

#[test]
fn parse_zero_or_huge_section_count_is_rejected() {
    assert_eq!(
        parse_mutated(|b| b[Header::SECTION_COUNT_AT].copy_from_slice(&0u16.to_le_bytes())),
        Err(BlobError::BadSectionCount { found: 0 })
    );
    assert_eq!(
        parse_mutated(|b| b[Header::SECTION_COUNT_AT].copy_from_slice(&33u16.to_le_bytes())),
        Err(BlobError::BadSectionCount { found: 33 })
    );
}

#[test]
fn parse_flipped_bit_is_checksum_mismatch() {
    let mut b = blob(1);
    let n = b.len();
    b[n - 5] ^= 0x10;
    assert!(matches!(parse(&b), Err(BlobError::ChecksumMismatch { .. })));
}

#[test]
fn parse_unknown_section_id_is_rejected() {
    let e = entry_of(&blob(7), SectionId::Fc2Bias);
    assert_eq!(
        parse_mutated(|b| b[at(e, SectionEntry::ID_AT)].copy_from_slice(&99u16.to_le_bytes())),
        Err(BlobError::UnknownSection { id: 99 })
    );
}

#[test]
fn parse_duplicate_section_is_rejected() {
    // Make the conv1.bias entry a second conv1.weight entry with identical metadata but its own bytes.
    let src = blob(7);
    let (e1, e2) = (
        entry_of(&src, SectionId::Conv1Weight),
        entry_of(&src, SectionId::Conv1Bias),
    );
    let r = parse_mutated(|b| {
        // id, dtype, rank and dims: everything before the offset.
        let meta = 0..SectionEntry::OFFSET_AT.start;
        let entry: Vec<u8> = b[at(e1, meta.clone())].to_vec();
        b[at(e2, meta)].copy_from_slice(&entry);
        let len = SectionId::Conv1Weight.byte_len() as u32;
        b[at(e2, SectionEntry::LEN_AT)].copy_from_slice(&len.to_le_bytes());
        let off = (b.len() as u32 - len) / 16 * 16; // any in-bounds aligned place
        b[at(e2, SectionEntry::OFFSET_AT)].copy_from_slice(&off.to_le_bytes());
    });
    assert_eq!(
        r,
        Err(BlobError::DuplicateSection {
            section: SectionId::Conv1Weight
        })
    );
}

#[test]
fn parse_incomplete_precision_is_missing_section() {
    let mut w = lenet_core::blob::BlobWriter::new(lenet_core::blob::Activation::Relu);
    for &s in &SectionId::F32_SET[..7] {
        w.add_f32(s, &vec![0.0; s.elements()]).unwrap();
    }
    let b = w.finish().unwrap();
    assert_eq!(
        parse(&b),
        Err(BlobError::MissingSection {
            section: SectionId::Fc2Bias
        })
    );
}

#[test]
fn parse_wrong_dtype_is_rejected() {
    let e = entry_of(&blob(7), SectionId::Conv1Bias);
    assert_eq!(
        parse_mutated(|b| b[e + SectionEntry::DTYPE_AT] = 3),
        Err(BlobError::BadDType {
            section: SectionId::Conv1Bias,
            found: 3
        })
    );
}

#[test]
fn parse_wrong_shape_is_rejected() {
    let e = entry_of(&blob(7), SectionId::Fc1Weight);
    let r =
        parse_mutated(|b| b[at(e, SectionEntry::dim_at(0))].copy_from_slice(&250u32.to_le_bytes()));
    assert_eq!(
        r,
        Err(BlobError::ShapeMismatch {
            section: SectionId::Fc1Weight,
            expected: [500, 2450, 0, 0],
            found: [250, 2450, 0, 0]
        })
    );
    let r = parse_mutated(|b| b[e + SectionEntry::RANK_AT] = 3);
    assert!(matches!(
        r,
        Err(BlobError::ShapeMismatch {
            section: SectionId::Fc1Weight,
            ..
        })
    ));
}

#[test]
fn parse_wrong_length_is_rejected() {
    let e = entry_of(&blob(7), SectionId::Fc2Bias);
    assert_eq!(
        parse_mutated(|b| b[at(e, SectionEntry::LEN_AT)].copy_from_slice(&36u32.to_le_bytes())),
        Err(BlobError::LengthMismatch {
            section: SectionId::Fc2Bias,
            expected: 40,
            found: 36
        })
    );
}

#[test]
fn parse_section_past_end_is_out_of_bounds() {
    let b0 = blob(7);
    let e = entry_of(&b0, SectionId::Fc2Bias);
    let off = (b0.len() as u32).div_ceil(16) * 16;
    assert_eq!(
        parse_mutated(|b| b[at(e, SectionEntry::OFFSET_AT)].copy_from_slice(&off.to_le_bytes())),
        Err(BlobError::SectionOutOfBounds {
            section: SectionId::Fc2Bias,
            offset: off,
            len: 40
        })
    );
    // Overflowing offset + len on a 32-bit reader.
    let r = parse_mutated(|b| {
        b[at(e, SectionEntry::OFFSET_AT)].copy_from_slice(&0xffff_fff0u32.to_le_bytes())
    });
    assert!(matches!(r, Err(BlobError::SectionOutOfBounds { .. })));
    // Data may not start inside the header or the section table.
    let r =
        parse_mutated(|b| b[at(e, SectionEntry::OFFSET_AT)].copy_from_slice(&32u32.to_le_bytes()));
    assert_eq!(
        r,
        Err(BlobError::SectionOutOfBounds {
            section: SectionId::Fc2Bias,
            offset: 32,
            len: 40
        })
    );
}

#[test]
fn parse_misaligned_offset_is_rejected() {
    let b0 = blob(7);
    let e = entry_of(&b0, SectionId::Fc2Bias);
    let off = data_of(&b0, SectionId::Fc2Bias) as u32 + 4;
    assert_eq!(
        parse_mutated(|b| b[at(e, SectionEntry::OFFSET_AT)].copy_from_slice(&off.to_le_bytes())),
        Err(BlobError::Misaligned {
            section: SectionId::Fc2Bias,
            offset: off
        })
    );
}

#[test]
fn parse_overlapping_sections_are_rejected() {
    let b0 = blob(7);
    let e = entry_of(&b0, SectionId::Conv2Bias);
    let off = data_of(&b0, SectionId::Conv2Weight) as u32;
    assert_eq!(
        parse_mutated(|b| b[at(e, SectionEntry::OFFSET_AT)].copy_from_slice(&off.to_le_bytes())),
        Err(BlobError::Overlap {
            section: SectionId::Conv2Bias,
            other: SectionId::Conv2Weight
        })
    );
}

fn set_i32(b: &mut [u8], id: SectionId, index: usize, v: i32) {
    let at = data_of(b, id) + 4 * index;
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn parse_out_of_range_quant_params_are_rejected() {
    use SectionId as S;
    let bad = |id, index| Err(BlobError::BadQuantParam { section: id, index });
    assert_eq!(
        parse_mutated(|b| set_i32(b, S::Conv1Requant, 3, 0)),
        bad(S::Conv1Requant, 3)
    );
    assert_eq!(
        parse_mutated(|b| set_i32(b, S::Conv2Requant, 3, -5)),
        bad(S::Conv2Requant, 3)
    );
    assert_eq!(
        parse_mutated(|b| set_i32(b, S::Fc1Requant, 500 + 7, 31)),
        bad(S::Fc1Requant, 507)
    );
    assert_eq!(
        parse_mutated(|b| set_i32(b, S::Fc2Requant, 10, -32)),
        bad(S::Fc2Requant, 10)
    );
    assert_eq!(
        parse_mutated(|b| set_i32(b, S::ZeroPoints, 2, 128)),
        bad(S::ZeroPoints, 2)
    );
    assert_eq!(
        parse_mutated(|b| set_i32(b, S::ZeroPoints, 0, 0)),
        bad(S::ZeroPoints, 0)
    );
    assert_eq!(
        parse_mutated(|b| set_i32(b, S::Fc1BiasQ, 9, (1 << 30) + 1)),
        bad(S::Fc1BiasQ, 9)
    );
    assert_eq!(
        parse_mutated(|b| set_i32(b, S::Scales, 1, (-1.0f32).to_bits() as i32)),
        bad(S::Scales, 1)
    );
    assert_eq!(
        parse_mutated(|b| set_i32(b, S::Scales, 4, f32::NAN.to_bits() as i32)),
        bad(S::Scales, 4)
    );
    assert_eq!(
        parse_mutated(|b| set_i32(b, S::Scales, 3, 0)),
        bad(S::Scales, 3)
    );
    let r = parse_mutated(|b| {
        let at = data_of(b, S::Conv2WeightQ) + 11;
        b[at] = 0x80;
    });
    assert_eq!(r, bad(S::Conv2WeightQ, 11));
}

#[test]
fn per_tensor_requantization_round_trips() {
    use SectionId as S;
    let b = blob_dense_per_tensor(5);
    let a = AlignedBytes::new(&b);
    let m = Model::parse(a.bytes()).unwrap();
    let q = m.int8().unwrap();
    assert!(!q.conv1.requant.is_per_tensor() && !q.conv2.requant.is_per_tensor());
    assert!(q.fc1.requant().is_per_tensor() && q.fc2.requant.is_per_tensor());
    for (id, requant) in [
        (S::Fc1Requant, q.fc1.requant().multipliers()),
        (S::Fc2Requant, q.fc2.requant.multipliers()),
    ] {
        let at = data_of(&b, id);
        assert_eq!(
            requant,
            &[i32::from_le_bytes(b[at..at + 4].try_into().unwrap())]
        );
        let view = m.sections().iter().find(|v| v.id == id).unwrap();
        assert_eq!(view.dims(), [2, 1, 0, 0]);
        assert_eq!(view.bytes.len(), 8);
    }
    // Every channel uses the one pair.
    let (m0, s0) = q.fc1.requant().get(0);
    assert_eq!(q.fc1.requant().get(499), (m0, s0));
    assert_eq!(q.fc1.requant().shifts().len(), 1);
    // An int8-only blob with per-tensor dense layers fits in 1,260,000 bytes.
    let int8_only = writer_with(5, false, true, true).finish().unwrap();
    assert!(int8_only.len() <= 1_260_000, "{} bytes", int8_only.len());
}

/// Mutates a valid blob whose dense layers are requantized per tensor, repairs the CRC, parses.
fn parse_mutated_per_tensor(f: impl FnOnce(&mut Vec<u8>)) -> Result<(), BlobError> {
    let mut b = blob_dense_per_tensor(7);
    f(&mut b);
    fix_crc(&mut b);
    parse(&b)
}

#[test]
fn per_tensor_requantization_is_validated() {
    use SectionId as S;
    assert_eq!(parse_mutated_per_tensor(|_| {}), Ok(()));
    let bad = |id, index| Err(BlobError::BadQuantParam { section: id, index });
    assert_eq!(
        parse_mutated_per_tensor(|b| set_i32(b, S::Fc1Requant, 0, 0)),
        bad(S::Fc1Requant, 0)
    );
    assert_eq!(
        parse_mutated_per_tensor(|b| set_i32(b, S::Fc2Requant, 1, 31)),
        bad(S::Fc2Requant, 1)
    );
    // [2, 2] is neither shape; [2, 1] is only allowed for requantization sections.
    let r = parse_mutated_per_tensor(|b| {
        let e = entry_of(b, S::Fc1Requant);
        b[at(e, SectionEntry::dim_at(1))].copy_from_slice(&2u32.to_le_bytes());
    });
    assert_eq!(
        r,
        Err(BlobError::ShapeMismatch {
            section: S::Fc1Requant,
            expected: [2, 500, 0, 0],
            found: [2, 2, 0, 0]
        })
    );
    let r = parse_mutated(|b| {
        let e = entry_of(b, S::Fc2BiasQ);
        b[e + SectionEntry::RANK_AT] = 2;
        b[at(e, SectionEntry::dim_at(0))].copy_from_slice(&2u32.to_le_bytes());
        b[at(e, SectionEntry::dim_at(1))].copy_from_slice(&1u32.to_le_bytes());
        b[at(e, SectionEntry::LEN_AT)].copy_from_slice(&8u32.to_le_bytes());
    });
    assert_eq!(
        r,
        Err(BlobError::ShapeMismatch {
            section: S::Fc2BiasQ,
            expected: [10, 0, 0, 0],
            found: [2, 1, 0, 0]
        })
    );
    // Per-tensor shape with the per-channel length, and the other way round.
    let r = parse_mutated_per_tensor(|b| {
        let e = entry_of(b, S::Fc2Requant);
        b[at(e, SectionEntry::LEN_AT)].copy_from_slice(&80u32.to_le_bytes());
    });
    assert_eq!(
        r,
        Err(BlobError::LengthMismatch {
            section: S::Fc2Requant,
            expected: 8,
            found: 80
        })
    );
    let r = parse_mutated(|b| {
        let e = entry_of(b, S::Fc2Requant);
        b[at(e, SectionEntry::LEN_AT)].copy_from_slice(&8u32.to_le_bytes());
    });
    assert_eq!(
        r,
        Err(BlobError::LengthMismatch {
            section: S::Fc2Requant,
            expected: 80,
            found: 8
        })
    );
}

#[test]
fn writer_takes_per_channel_or_per_tensor_requantization_only() {
    let mut w = BlobWriter::new(lenet_core::blob::Activation::Relu);
    assert!(w.add_i32(SectionId::Fc2Requant, &[1 << 30, -10]).is_ok());
    assert!(matches!(
        w.add_i32(SectionId::Fc1Requant, &[1 << 30, -10, 1 << 30, -10]),
        Err(WriteError::WrongLength { .. })
    ));
    assert!(matches!(
        w.add_i32(SectionId::Fc2BiasQ, &[0; 2]),
        Err(WriteError::WrongLength { .. })
    ));
}

#[test]
fn i8_parse_checks_like_the_full_parser() {
    // Same model as the full parser's, same logits.
    for b in [
        blob(3),
        blob_dense_per_tensor(3),
        writer(3, false, true).finish().unwrap(),
    ] {
        let a = AlignedBytes::new(&b);
        let full = *Model::parse(a.bytes()).unwrap().int8().unwrap();
        let lean = I8Model::parse(a.bytes()).unwrap();
        let pixels: [u8; shape::IN_LEN] = core::array::from_fn(|i| (i * 37 % 256) as u8);
        let mut scratch = Box::new(ScratchI8::new());
        assert_eq!(
            full.forward(&pixels, &mut scratch),
            lean.forward(&pixels, &mut scratch)
        );
    }
    // No int8 model: the first int8 section is missing.
    let f = writer(3, true, false).finish().unwrap();
    let a = AlignedBytes::new(&f);
    assert_eq!(
        I8Model::parse(a.bytes()).map(|_| ()),
        Err(BlobError::MissingSection {
            section: SectionId::Conv1WeightQ
        })
    );
    // An incomplete f32 set, a corrupted byte: rejected as by Model::parse.
    let mut w = writer(3, false, true);
    w.add_f32(SectionId::Fc2Bias, &[0.0; 10]).unwrap();
    let b = w.finish().unwrap();
    let a = AlignedBytes::new(&b);
    assert_eq!(
        I8Model::parse(a.bytes()).map(|_| ()),
        Model::parse(a.bytes()).map(|_| ())
    );
    assert!(matches!(
        I8Model::parse(a.bytes()),
        Err(BlobError::MissingSection { .. })
    ));
    let mut b = blob(3);
    let at = data_of(&b, SectionId::Fc1WeightQ) + 5;
    b[at] ^= 1;
    let a = AlignedBytes::new(&b);
    assert!(matches!(
        I8Model::parse(a.bytes()),
        Err(BlobError::ChecksumMismatch { .. })
    ));
}

#[test]
fn error_messages_name_the_problem() {
    let e = BlobError::SectionOutOfBounds {
        section: SectionId::Fc1Weight,
        offset: 16,
        len: 9,
    };
    assert_eq!(
        e.to_string(),
        "section fc1.weight (id 5): bytes 16+9 fall outside the data area"
    );
    assert!(
        BlobError::ChecksumMismatch {
            expected: 1,
            found: 2
        }
        .to_string()
        .contains("corrupted")
    );
}

#[test]
fn section_sizes_match_the_network() {
    let total: usize = SectionId::F32_SET.iter().map(|s| s.elements()).sum();
    assert_eq!(total, shape::PARAMS);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Flipping, overwriting or truncating bytes of a valid blob (CRC repaired or not) yields an
    /// error or a valid model, never a panic; a model that parses runs both passes.
    #[test]
    fn parse_never_panics_on_mutated_blobs(
        edits in proptest::collection::vec((0usize..4096, any::<u8>()), 1..8),
        truncate in proptest::option::of(0usize..8192),
        repair in any::<bool>(),
    ) {
        let mut b = writer(5, false, true).finish().unwrap();
        for (at, v) in edits {
            let n = b.len();
            b[at % n] = v;
        }
        if let Some(t) = truncate {
            let n = b.len();
            b.truncate(t.min(n));
        }
        if repair && b.len() >= 16 {
            fix_crc(&mut b);
        }
        let a = AlignedBytes::new(&b);
        let lean = I8Model::parse(a.bytes());
        match Model::parse(a.bytes()) {
            Ok(m) => {
                // The int8-only parser accepts exactly the blobs with an int8 model.
                prop_assert_eq!(lean.is_ok(), m.int8().is_some());
                if let Some(q) = m.int8() {
                    let _ = q.predict(&[200; 784], &mut lenet_core::ScratchI8::new());
                }
                if let Some(f) = m.f32() {
                    let _ = f.predict(&[0.5; 784], &mut lenet_core::ScratchF32::new());
                }
            }
            Err(e) => prop_assert_eq!(lean.map(|_| ()), Err(e)),
        }
    }

    /// Arbitrary bytes never panic the parser.
    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let a = AlignedBytes::new(&bytes);
        let _ = Model::parse(a.bytes());
        let _ = I8Model::parse(a.bytes());
    }
}
