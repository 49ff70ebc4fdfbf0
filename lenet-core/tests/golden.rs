//! Golden vectors: the committed int8 blob classifies the committed test images to exactly the
//! committed logits (see tests/fixtures/PROVENANCE.md). The firmware self-test replays the same
//! records on a Cortex-M4.

mod common;

use common::Aligned;
use lenet_core::{Model, ScratchI8};

const RECORD: usize = 784 + 1 + 1 + 10;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn golden_logits_match_bit_for_bit() {
    let blob = Aligned::new(&fixture("lenet-int8.blob"));
    let model = Model::parse(blob.bytes()).expect("committed blob parses");
    let q = model.int8().expect("committed blob carries the int8 model");
    let golden = fixture("golden.bin");
    assert_eq!(golden.len() % RECORD, 0);
    let mut scratch = ScratchI8::new();
    let mut correct = 0;
    for (i, rec) in golden.chunks_exact(RECORD).enumerate() {
        let pixels: &[u8; 784] = rec[..784].try_into().unwrap();
        let (label, digit) = (rec[784], rec[785]);
        let expected: Vec<i8> = rec[786..].iter().map(|&b| b as i8).collect();
        let p = q.predict(pixels, &mut scratch);
        assert_eq!(&p.logits[..], &expected[..], "record {i}");
        assert_eq!(p.digit, digit, "record {i}");
        correct += usize::from(digit == label);
    }
    let n = golden.len() / RECORD;
    assert!(n >= 16, "at least 16 golden records");
    assert!(
        correct * 10 >= n * 9,
        "{correct}/{n} golden images classified correctly"
    );
}
