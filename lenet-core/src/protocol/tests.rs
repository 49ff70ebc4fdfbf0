//! The protocol's unit tests: exact frames, every kind round-tripped, every rejection, and the
//! decoder's resilience to arbitrary bytes.

extern crate std;

use std::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::shape::IN_LEN;

/// An owned copy of an event, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owned {
    Classify(u8, Vec<u8>),
    Ping(u8),
    Result(u8, ClassifyResult),
    Pong(u8, u8),
    Error(u8, FrameError),
    Invalid(u8, FrameError),
}

fn own(e: Event<'_>) -> Owned {
    match e {
        Event::Message { seq, message } => match message {
            Message::Classify(p) => Owned::Classify(seq, p.to_vec()),
            Message::Ping => Owned::Ping(seq),
            Message::Result(r) => Owned::Result(seq, r),
            Message::Pong { version } => Owned::Pong(seq, version),
            Message::Error(e) => Owned::Error(seq, e),
        },
        Event::Invalid { seq, error } => Owned::Invalid(seq, error),
    }
}

fn decode(d: &mut Decoder, bytes: &[u8]) -> Vec<Owned> {
    let mut out = Vec::new();
    d.feed_all(bytes, &mut |e| out.push(own(e)));
    out
}

fn image(seed: u8) -> [u8; IN_LEN] {
    core::array::from_fn(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
}

const RESULT: ClassifyResult = ClassifyResult {
    digit: 7,
    logits: [-128, -5, 0, 3, 127, 1, 2, -1, 9, 100],
    instructions: 21_000_123,
};

#[test]
fn encode_ping_is_byte_exact() {
    // The example in docs/serial-protocol.md: CRC-32 of `02 09 00 00` is 0x849C2C18.
    let f = encode(9, &Message::Ping);
    assert_eq!(
        f.as_bytes(),
        &[0xA5, 0x5A, 0x02, 9, 0, 0, 0x18, 0x2C, 0x9C, 0x84]
    );
}

#[test]
fn roundtrip_every_kind_decodes_to_the_same_message() {
    let img = image(3);
    let messages = [
        Message::Classify(&img),
        Message::Ping,
        Message::Result(RESULT),
        Message::Pong { version: VERSION },
        Message::Error(FrameError::Timeout { received: 17 }),
        Message::Error(FrameError::Length {
            kind: 1,
            len: 65535,
        }),
    ];
    let mut d = Decoder::new();
    for (i, m) in messages.iter().enumerate() {
        let f = encode(i as u8, m);
        assert_eq!(f.as_bytes().len(), m.kind().frame_len());
        let mut got = Vec::new();
        d.feed_all(f.as_bytes(), &mut |e| {
            got.push(
                e == Event::Message {
                    seq: i as u8,
                    message: *m,
                },
            );
        });
        assert_eq!(got, [true], "message {i}");
        assert!(d.is_idle());
    }
}

#[test]
fn decode_bad_checksum_is_rejected_then_next_frame_decodes() {
    let mut bytes = encode(4, &Message::Result(RESULT)).as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    bytes.extend_from_slice(encode(5, &Message::Ping).as_bytes());
    let events = decode(&mut Decoder::new(), &bytes);
    assert!(matches!(
        events[0],
        Owned::Invalid(4, FrameError::Checksum { .. })
    ));
    assert_eq!(events[1..], [Owned::Ping(5)]);
}

#[test]
fn decode_oversize_length_is_rejected_at_the_header() {
    let events = decode(&mut Decoder::new(), &[0xA5, 0x5A, 0x01, 3, 0xFF, 0xFF]);
    assert_eq!(
        events,
        [Owned::Invalid(
            3,
            FrameError::Length {
                kind: 1,
                len: 0xFFFF
            }
        )]
    );
}

#[test]
fn decode_unknown_kind_is_rejected_at_the_header() {
    let events = decode(&mut Decoder::new(), &[0xA5, 0x5A, 0x33, 1, 0, 0]);
    assert_eq!(
        events,
        [Owned::Invalid(1, FrameError::UnknownKind { kind: 0x33 })]
    );
}

#[test]
fn decode_garbage_is_reported_once_a_sync_arrives() {
    let mut bytes = std::vec![1, 2, 3, 0xA5, 4];
    bytes.extend_from_slice(encode(8, &Message::Ping).as_bytes());
    let events = decode(&mut Decoder::new(), &bytes);
    assert_eq!(
        events,
        [
            Owned::Invalid(0, FrameError::Garbage { skipped: 5 }),
            Owned::Ping(8)
        ]
    );
}

#[test]
fn timeout_on_truncated_frame_reports_and_resets() {
    let f = encode(6, &Message::Classify(&image(1)));
    let mut d = Decoder::new();
    assert!(decode(&mut d, &f.as_bytes()[..100]).is_empty());
    assert!(!d.is_idle());
    let mut events = Vec::new();
    d.timeout(&mut |e| events.push(own(e)));
    assert_eq!(
        events[0],
        Owned::Invalid(6, FrameError::Timeout { received: 100 })
    );
    // The rescanned bytes hold no sync, so they vanish without a garbage report.
    assert_eq!(events.len(), 1);
    assert!(d.is_idle());
    assert_eq!(
        decode(&mut d, encode(7, &Message::Ping).as_bytes()),
        [Owned::Ping(7)]
    );
}

#[test]
fn timeout_after_plain_garbage_reports_it() {
    let mut d = Decoder::new();
    assert!(decode(&mut d, &[0, 1, 2, 0xA5]).is_empty());
    let mut events = Vec::new();
    d.timeout(&mut |e| events.push(own(e)));
    assert_eq!(
        events,
        [Owned::Invalid(0, FrameError::Garbage { skipped: 4 })]
    );
    assert!(d.is_idle());
}

#[test]
fn frame_hidden_in_a_bogus_frame_is_found_by_the_rescan() {
    // A stray header announcing a classify swallows a whole result frame and more.
    let mut bytes = std::vec![0xA5, 0x5A, 0x01, 2, 0x10, 0x03];
    bytes.extend_from_slice(encode(3, &Message::Result(RESULT)).as_bytes());
    bytes.extend(core::iter::repeat_n(0u8, 800));
    bytes.extend_from_slice(encode(4, &Message::Ping).as_bytes());
    let events = decode(&mut Decoder::new(), &bytes);
    assert!(matches!(
        events[0],
        Owned::Invalid(2, FrameError::Checksum { .. })
    ));
    assert_eq!(events[1], Owned::Result(3, RESULT));
    assert_eq!(*events.last().unwrap(), Owned::Ping(4));
}

#[test]
fn error_wire_roundtrip_keeps_every_variant() {
    for e in [
        FrameError::Checksum {
            received: 0xDEAD_BEEF,
        },
        FrameError::Length {
            kind: 0x81,
            len: 1234,
        },
        FrameError::UnknownKind { kind: 0x44 },
        FrameError::Timeout { received: 793 },
        FrameError::Garbage { skipped: 100_000 },
        FrameError::Unexpected { kind: 0x81 },
        FrameError::Unknown {
            code: 99,
            detail: 5,
        },
    ] {
        let (code, detail) = e.to_wire();
        assert_eq!(FrameError::from_wire(code, detail), e);
    }
}

fn valid_message(sel: u8, seed: u8) -> Vec<u8> {
    let img = image(seed);
    let m = match sel % 5 {
        0 => Message::Classify(&img),
        1 => Message::Ping,
        2 => Message::Result(ClassifyResult {
            digit: seed % 10,
            ..RESULT
        }),
        3 => Message::Pong { version: seed },
        _ => Message::Error(FrameError::Garbage {
            skipped: u32::from(seed),
        }),
    };
    encode(seed, &m).as_bytes().to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoder_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut d = Decoder::new();
        let mut n = 0usize;
        d.feed_all(&bytes, &mut |_| n += 1);
        d.timeout(&mut |_| n += 1);
        d.timeout(&mut |_| n += 1);
        prop_assert!(n <= bytes.len() + 2);
    }

    #[test]
    fn decoder_recovers_a_valid_frame_after_garbage(
        garbage in proptest::collection::vec(any::<u8>(), 0..2048),
        biased in proptest::collection::vec(prop_oneof![Just(0xA5u8), Just(0x5A), Just(0x01), Just(0x10), Just(0x03), any::<u8>()], 0..64),
        sel in any::<u8>(),
        seed in any::<u8>(),
    ) {
        let frame = valid_message(sel, seed);
        let mut d = Decoder::new();
        let mut events = Vec::new();
        d.feed_all(&garbage, &mut |e| events.push(own(e)));
        d.feed_all(&biased, &mut |e| events.push(own(e)));
        d.feed_all(&frame, &mut |e| events.push(own(e)));
        // A stray header may still be waiting for bytes that will never come: the sender's
        // stall ends it, and the rescan then finds the frame.
        while !d.is_idle() {
            d.timeout(&mut |e| events.push(own(e)));
        }
        let mut check = Decoder::new();
        let expected = decode(&mut check, &frame);
        prop_assert_eq!(expected.len(), 1);
        prop_assert!(events.contains(&expected[0]), "events: {:?}", events);
    }
}
