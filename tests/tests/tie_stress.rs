//! The rounding-tie stress set (`parity::tie_stress`; `docs/quantization.md`, section 6):
//!
//! - the committed `tests/fixtures/tie-stress.blob` and `golden-tie-stress.bin` are what the
//!   generator writes, byte for byte;
//! - every int8 path (lenet-core's reference, the portable kernels, the dispatched `forward` and
//!   `predict` and, on x86-64, the packed model and each SIMD family forced on its own) gives
//!   exactly the golden logits and digits;
//! - the set lands on many ties of both signs in every layer, and implementations that round
//!   ties another way, or break argmax ties toward the highest index, fail it.
//!
//! A SIMD family this CPU lacks is skipped with `skipped: <isa> not available (...)` on stderr,
//! unless `LENET_EXPECT_ISA` (a comma list of `avx2`, `avx512vnni`) names it: then the test fails.

use std::io::Write as _;

use lenet_core::aligned::AlignedBytes;
use lenet_core::golden::Golden;
use lenet_core::kernels::act::argmax_i8;
use lenet_core::{I8Model, Model, ScratchI8};
use parity::tie_stress::{self, RECORDS, Summary, TieRule};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `check` on the int8 model of the committed stress blob and its golden file.
fn with_committed(check: impl FnOnce(&I8Model<'_>, &Golden<'_>)) {
    let blob = AlignedBytes::new(&fixture(tie_stress::BLOB_FILE));
    let model = Model::parse(blob.bytes()).expect("the committed stress blob parses");
    let m = model
        .int8()
        .expect("the stress blob carries the int8 model");
    let golden = fixture(tie_stress::GOLDEN_FILE);
    let golden = Golden::parse(&golden).expect("the committed golden file parses");
    check(m, &golden);
}

#[test]
fn committed_fixtures_are_what_the_generator_writes() {
    let regenerate = "regenerate with `cargo run -p parity --bin make_tie_stress`";
    let blob = tie_stress::blob();
    assert!(
        blob == fixture(tie_stress::BLOB_FILE),
        "tests/fixtures/{} differs from the generator's blob: {regenerate}",
        tie_stress::BLOB_FILE
    );
    let aligned = AlignedBytes::new(&blob);
    let model = Model::parse(aligned.bytes()).unwrap();
    let golden = tie_stress::golden_file(model.int8().unwrap());
    assert!(
        golden == fixture(tie_stress::GOLDEN_FILE),
        "tests/fixtures/{} differs from the generator's records: {regenerate}",
        tie_stress::GOLDEN_FILE
    );
}

/// The instruction sets `LENET_EXPECT_ISA` lists.
fn expected_isas() -> Vec<String> {
    std::env::var("LENET_EXPECT_ISA")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether a path that needs `isa` (available or not, as `have`) runs; prints the skip, or
/// fails when `LENET_EXPECT_ISA` lists `isa`.
fn isa_gate(isa: &str, have: bool) -> bool {
    if have {
        return true;
    }
    assert!(
        !expected_isas().iter().any(|e| e == isa),
        "tie stress: LENET_EXPECT_ISA lists {isa}, which this CPU does not have"
    );
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {isa} not available (tie stress)"
    );
    false
}

/// One int8 path: its name and its logits for an image.
type Path<'a> = (&'static str, Box<dyn Fn(&[u8; 784]) -> [i8; 10] + 'a>);

/// Every int8 path that runs on this machine.
fn paths<'a>(m: &'a I8Model<'a>) -> Vec<Path<'a>> {
    let mut out: Vec<Path<'a>> = vec![
        (
            "reference",
            Box::new(move |p| tie_stress::reference(m, p).logits),
        ),
        (
            "traced (spec rule)",
            Box::new(move |p| tie_stress::trace(m, p, TieRule::HalfUp).prediction.logits),
        ),
        (
            "portable",
            Box::new(move |p| m.forward_portable(p, &mut ScratchI8::new())),
        ),
        (
            "forward",
            Box::new(move |p| m.forward(p, &mut ScratchI8::new())),
        ),
        (
            "predict",
            Box::new(move |p| m.predict(p, &mut ScratchI8::new()).logits),
        ),
    ];
    #[cfg(target_arch = "x86_64")]
    {
        use lenet_core::kernels::x86::{self, I8Isa};
        let packed = lenet_core::model::PackedI8::new(m);
        out.push((
            "packed",
            Box::new(move |p| packed.forward(p, &mut ScratchI8::new())),
        ));
        for (name, isa, have) in [
            ("avx2", I8Isa::Avx2, x86::avx2_available()),
            ("avx512vnni", I8Isa::Avx512Vnni, x86::int8_available()),
        ] {
            if isa_gate(name, have) {
                out.push((
                    name,
                    Box::new(move |p| {
                        let layers = m.x86_layers().expect("an int8 fc1");
                        let mut s = ScratchI8::new();
                        x86::forward_i8_isa(isa, &layers, p, s.x86_buffers())
                            .unwrap_or_else(|| panic!("{name} did not run on the stress blob"))
                    }),
                ));
            }
        }
    }
    out
}

#[test]
fn every_int8_path_gives_the_golden_logits() {
    with_committed(|m, golden| {
        assert_eq!(golden.len(), RECORDS);
        for (name, run) in paths(m) {
            for (i, r) in golden.records().enumerate() {
                let want = r.prediction();
                let logits = run(r.image());
                assert_eq!(logits, want.logits, "{name}: logits of record {i}");
                assert_eq!(
                    argmax_i8(&logits) as u8,
                    want.digit,
                    "{name}: digit of record {i}"
                );
            }
        }
        for (i, r) in golden.records().enumerate() {
            let p = m.predict(r.image(), &mut ScratchI8::new());
            assert_eq!(p.digit, r.digit(), "predict: digit of record {i}");
            assert_eq!(
                r.label(),
                r.digit(),
                "record {i}: the label repeats the digit"
            );
        }
    });
}

#[test]
fn the_set_lands_on_ties_and_wrong_rules_fail_it() {
    with_committed(|m, golden| {
        let summary = Summary::of(m, golden.as_bytes());
        let _ = writeln!(std::io::stderr(), "{summary:#?}");
        if let Err(e) = summary.check() {
            panic!("the stress set falls short: {e}");
        }
        // Every wrong rule is caught by most records, not by a lucky few.
        for (k, rule) in TieRule::WRONG.iter().enumerate() {
            assert!(
                summary.logits_differ[k] * 3 >= RECORDS * 2,
                "{rule:?}: only {} of {RECORDS} records differ",
                summary.logits_differ[k]
            );
        }
    });
}

#[test]
fn tie_detection_matches_the_worked_examples() {
    // docs/quantization.md, section 2: M = 2^30, S = 0 halves the accumulator.
    let half = (1 << 30, 0);
    assert_eq!(tie_stress::tie(5, half.0, half.1), Some((false, 31)));
    assert_eq!(tie_stress::tie(-1, half.0, half.1), Some((true, 31)));
    assert_eq!(tie_stress::tie(4, half.0, half.1), None);
    // M = 2^30, S = -1 quarters it: -6 is -1.5, a tie; 7 is 1.75, not one.
    assert_eq!(tie_stress::tie(-6, 1 << 30, -1), Some((true, 32)));
    assert_eq!(tie_stress::tie(7, 1 << 30, -1), None);
    // requantize(-2^31, 2^30, -31) = 0: -0.5 at the largest total shift.
    assert_eq!(tie_stress::tie(i32::MIN, 1 << 30, -31), Some((true, 62)));
}
