//! Golden vectors: the committed int8 blob classifies the committed test images to exactly the
//! committed logits (see tests/fixtures/PROVENANCE.md). The firmware self-test replays the same
//! records on a Cortex-M4.

mod common;

use lenet_core::aligned::AlignedBytes;
use lenet_core::golden::Golden;
use lenet_core::{Model, ScratchI8};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn golden_logits_match_bit_for_bit() {
    let blob = AlignedBytes::new(&fixture("lenet-int8.blob"));
    let model = Model::parse(blob.bytes()).expect("committed blob parses");
    let q = model.int8().expect("committed blob carries the int8 model");
    let bytes = fixture("golden.bin");
    let golden = Golden::parse(&bytes).expect("whole records");
    let mut scratch = ScratchI8::new();
    let mut correct = 0;
    for (i, rec) in golden.records().enumerate() {
        let p = q.predict(rec.image(), &mut scratch);
        assert_eq!(p.logits, rec.logits(), "record {i}");
        assert_eq!(p.digit, rec.digit(), "record {i}");
        correct += usize::from(rec.digit() == rec.label());
    }
    let n = golden.len();
    assert!(n >= 16, "at least 16 golden records");
    assert!(
        correct * 10 >= n * 9,
        "{correct}/{n} golden images classified correctly"
    );
}
