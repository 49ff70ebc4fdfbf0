//! The serial protocol between a host and the firmware: frame encoder and an incremental,
//! byte-at-a-time decoder over a fixed buffer (no allocation, no panics on any input).
//!
//! `docs/serial-protocol.md` is the byte-by-byte specification; this module is its code.
//!
//! ```text
//! offset  size  field
//!      0     2  sync 0xA5 0x5A
//!      2     1  kind (0x01 classify, 0x02 ping, 0x81 result, 0x82 pong, 0xEE error)
//!      3     1  sequence number, echoed in the reply (0 = not tied to a request)
//!      4     2  payload length N, little-endian; must equal the kind's fixed length
//!      6     N  payload
//!    6+N     4  CRC-32 (IEEE 802.3) of bytes [2, 6+N), little-endian
//! ```
//!
//! The [`Decoder`] reports every complete frame and every rejected byte run through a callback.
//! After a rejected frame it rescans the bytes it had buffered from the second byte on, so a valid
//! frame hidden inside a bogus one (for example after a stray sync and a plausible header) is still
//! found. [`Decoder::timeout`] is called by the owner of the clock when the line has been idle
//! too long with a frame in progress.
//!
//! ```
//! use lenet_core::protocol::{Decoder, Event, Message, encode};
//!
//! let frame = encode(7, &Message::Ping);
//! let mut decoder = Decoder::new();
//! let mut seen = None;
//! for &b in frame.as_bytes() {
//!     decoder.feed(b, &mut |event| {
//!         if let Event::Message { seq, message: Message::Ping } = event {
//!             seen = Some(seq);
//!         }
//!     });
//! }
//! assert_eq!(seen, Some(7));
//! ```
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use core::fmt;

use crate::shape::{CLASSES, IN_LEN};

/// The two bytes every frame starts with.
pub const SYNC: [u8; 2] = [0xA5, 0x5A];
/// Protocol version, reported in a [`Message::Pong`].
pub const VERSION: u8 = 1;
/// Bytes before the payload: sync, kind, sequence number, length.
pub const HEADER_LEN: usize = 6;
/// Bytes of the trailing CRC-32.
pub const CRC_LEN: usize = 4;
/// Largest payload of any frame kind (a [`Message::Classify`] image).
pub const MAX_PAYLOAD: usize = IN_LEN;
/// Largest frame on the wire.
pub const MAX_FRAME: usize = HEADER_LEN + MAX_PAYLOAD + CRC_LEN;
/// Payload bytes of a [`Message::Result`]: digit, 10 logits, instruction count.
pub const RESULT_LEN: usize = 1 + CLASSES + 4;
/// Payload bytes of a [`Message::Error`]: code and a 32-bit detail.
pub const ERROR_LEN: usize = 5;

const _: () = assert!(MAX_FRAME == 794);
const _: () = assert!(MAX_FRAME <= u16::MAX as usize);

/// Frame kinds; the discriminant is the byte on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Kind {
    /// Host to device: classify an image.
    Classify = 0x01,
    /// Host to device: are you there?
    Ping = 0x02,
    /// Device to host: the answer to a classify request.
    Result = 0x81,
    /// Device to host: the answer to a ping.
    Pong = 0x82,
    /// Either way: a frame or byte run was rejected.
    Error = 0xEE,
}

impl Kind {
    /// The kind for a wire byte.
    pub const fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(Self::Classify),
            0x02 => Some(Self::Ping),
            0x81 => Some(Self::Result),
            0x82 => Some(Self::Pong),
            0xEE => Some(Self::Error),
            _ => None,
        }
    }

    /// The fixed payload length of this kind.
    pub const fn payload_len(self) -> usize {
        match self {
            Self::Classify => IN_LEN,
            Self::Ping => 0,
            Self::Result => RESULT_LEN,
            Self::Pong => 1,
            Self::Error => ERROR_LEN,
        }
    }

    /// The whole frame length of this kind.
    #[allow(clippy::arithmetic_side_effects)] // at most HEADER_LEN + MAX_PAYLOAD + CRC_LEN = 794
    pub const fn frame_len(self) -> usize {
        HEADER_LEN + self.payload_len() + CRC_LEN
    }
}

/// The answer to a classify request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClassifyResult {
    /// The predicted digit (argmax of `logits`).
    pub digit: u8,
    /// The int8 logits.
    pub logits: [i8; CLASSES],
    /// Instructions (QEMU `-icount`) or core cycles (hardware) the inference took.
    pub instructions: u32,
}

/// Why bytes were rejected. Sent back in an error frame; the decoder produces all but
/// [`FrameError::Unexpected`] and [`FrameError::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FrameError {
    /// The CRC-32 did not match (wire code 1, detail = the CRC in the frame).
    Checksum {
        /// The CRC-32 the frame carried.
        received: u32,
    },
    /// The length field is not the fixed length of the kind (wire code 2, detail =
    /// `kind << 16 | len`).
    Length {
        /// The kind byte.
        kind: u8,
        /// The declared payload length.
        len: u16,
    },
    /// The kind byte is not defined (wire code 3, detail = the byte).
    UnknownKind {
        /// The kind byte.
        kind: u8,
    },
    /// The sender stalled in the middle of a frame (wire code 4, detail = bytes received).
    Timeout {
        /// Bytes of the frame received before the stall.
        received: u16,
    },
    /// Bytes outside any frame were skipped (wire code 5, detail = how many).
    Garbage {
        /// Bytes skipped.
        skipped: u32,
    },
    /// A valid frame of a kind this side does not serve (wire code 6, detail = the kind).
    Unexpected {
        /// The kind byte.
        kind: u8,
    },
    /// An error code this version does not define (a newer peer).
    Unknown {
        /// The wire code.
        code: u8,
        /// The wire detail.
        detail: u32,
    },
}

impl FrameError {
    /// The wire code and detail of this error.
    pub const fn to_wire(self) -> (u8, u32) {
        match self {
            Self::Checksum { received } => (1, received),
            Self::Length { kind, len } => (2, (kind as u32) << 16 | len as u32),
            Self::UnknownKind { kind } => (3, kind as u32),
            Self::Timeout { received } => (4, received as u32),
            Self::Garbage { skipped } => (5, skipped),
            Self::Unexpected { kind } => (6, kind as u32),
            Self::Unknown { code, detail } => (code, detail),
        }
    }

    /// The error for a wire code and detail (the inverse of [`FrameError::to_wire`]).
    pub const fn from_wire(code: u8, detail: u32) -> Self {
        let low8 = detail.to_le_bytes()[0];
        let [l0, l1, k, _] = detail.to_le_bytes();
        match code {
            1 => Self::Checksum { received: detail },
            2 => Self::Length {
                kind: k,
                len: u16::from_le_bytes([l0, l1]),
            },
            3 => Self::UnknownKind { kind: low8 },
            4 => Self::Timeout {
                received: u16::from_le_bytes([l0, l1]),
            },
            5 => Self::Garbage { skipped: detail },
            6 => Self::Unexpected { kind: low8 },
            _ => Self::Unknown { code, detail },
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Checksum { received } => {
                write!(f, "CRC-32 mismatch (frame carried {received:#010x})")
            }
            Self::Length { kind, len } => {
                write!(f, "payload length {len} is wrong for kind {kind:#04x}")
            }
            Self::UnknownKind { kind } => write!(f, "unknown frame kind {kind:#04x}"),
            Self::Timeout { received } => {
                write!(f, "sender stalled after {received} bytes of a frame")
            }
            Self::Garbage { skipped } => write!(f, "{skipped} bytes outside any frame skipped"),
            Self::Unexpected { kind } => write!(f, "frame kind {kind:#04x} is not served here"),
            Self::Unknown { code, detail } => write!(f, "error code {code} (detail {detail})"),
        }
    }
}

impl core::error::Error for FrameError {}

/// A decoded frame's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// Classify this image: raw 8-bit pixels, row-major 28x28, 0 = background.
    Classify(&'a [u8; IN_LEN]),
    /// Liveness check; answered with [`Message::Pong`].
    Ping,
    /// The answer to [`Message::Classify`].
    Result(ClassifyResult),
    /// The answer to [`Message::Ping`], with the responder's protocol version.
    Pong {
        /// Protocol version ([`VERSION`]).
        version: u8,
    },
    /// The peer rejected a frame or a byte run.
    Error(FrameError),
}

impl Message<'_> {
    /// The frame kind that carries this message.
    pub const fn kind(&self) -> Kind {
        match self {
            Self::Classify(_) => Kind::Classify,
            Self::Ping => Kind::Ping,
            Self::Result(_) => Kind::Result,
            Self::Pong { .. } => Kind::Pong,
            Self::Error(_) => Kind::Error,
        }
    }
}

/// What the [`Decoder`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A valid frame.
    Message {
        /// The frame's sequence number (echo it in the reply).
        seq: u8,
        /// Its content; borrowed payloads live in the decoder's buffer.
        message: Message<'a>,
    },
    /// Bytes were rejected; answer with an error frame carrying `seq`.
    Invalid {
        /// The sequence number of the rejected frame, 0 when its header was not read.
        seq: u8,
        /// Why.
        error: FrameError,
    },
}

/// One encoded frame, ready to write.
#[derive(Clone)]
pub struct EncodedFrame {
    bytes: [u8; MAX_FRAME],
    len: usize,
}

impl EncodedFrame {
    /// The frame's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

impl fmt::Debug for EncodedFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncodedFrame")
            .field("len", &self.len)
            .finish()
    }
}

struct Cursor<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        for (d, s) in self.buf.iter_mut().skip(self.pos).zip(bytes) {
            *d = *s;
        }
        self.pos = self.pos.saturating_add(bytes.len()).min(self.buf.len());
    }
}

/// Encodes `message` as one frame with sequence number `seq`.
pub fn encode(seq: u8, message: &Message<'_>) -> EncodedFrame {
    let kind = message.kind();
    let mut bytes = [0u8; MAX_FRAME];
    let mut c = Cursor {
        buf: &mut bytes,
        pos: 0,
    };
    c.put(&SYNC);
    // payload_len() <= MAX_PAYLOAD < 2^16 (const-asserted above).
    let len = u16::try_from(kind.payload_len()).unwrap_or(u16::MAX);
    c.put(&[kind as u8, seq]);
    c.put(&len.to_le_bytes());
    match message {
        Message::Classify(pixels) => c.put(&pixels[..]),
        Message::Ping => {}
        Message::Result(r) => {
            c.put(&[r.digit]);
            c.put(&r.logits.map(|l| l.to_le_bytes()[0]));
            c.put(&r.instructions.to_le_bytes());
        }
        Message::Pong { version } => c.put(&[*version]),
        Message::Error(e) => {
            let (code, detail) = e.to_wire();
            c.put(&[code]);
            c.put(&detail.to_le_bytes());
        }
    }
    let end = c.pos;
    let crc = crate::blob::crc32(c.buf.get(SYNC.len()..end).unwrap_or(&[]));
    c.put(&crc.to_le_bytes());
    let len = c.pos;
    EncodedFrame { bytes, len }
}

/// Builds the message for a frame whose kind and payload length were already checked.
fn message(kind: Kind, payload: &[u8]) -> Option<Message<'_>> {
    Some(match kind {
        Kind::Classify => Message::Classify(<&[u8; IN_LEN]>::try_from(payload).ok()?),
        Kind::Ping => Message::Ping,
        Kind::Result => {
            let [digit, rest @ ..] = *<&[u8; RESULT_LEN]>::try_from(payload).ok()?;
            let [logits @ .., i0, i1, i2, i3] = rest;
            Message::Result(ClassifyResult {
                digit,
                logits: logits.map(|b| i8::from_le_bytes([b])),
                instructions: u32::from_le_bytes([i0, i1, i2, i3]),
            })
        }
        Kind::Pong => Message::Pong {
            version: *payload.first()?,
        },
        Kind::Error => {
            let [code, d0, d1, d2, d3] = *<&[u8; ERROR_LEN]>::try_from(payload).ok()?;
            Message::Error(FrameError::from_wire(
                code,
                u32::from_le_bytes([d0, d1, d2, d3]),
            ))
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The byte was consumed (skipped, buffered, or it completed a valid frame).
    Consumed,
    /// The candidate in `buf[..len]` was rejected; its bytes from index 1 must be rescanned.
    Rejected,
}

/// Incremental frame decoder: feed it bytes as they arrive.
///
/// It holds at most one frame ([`MAX_FRAME`] bytes). Every byte sequence leads to events, never
/// to a panic or an unbounded wait: a wrong kind or length is rejected as soon as the header is
/// complete, a bad CRC when the frame is, and a stall when the owner calls
/// [`Decoder::timeout`].
#[derive(Clone)]
pub struct Decoder {
    buf: [u8; MAX_FRAME],
    /// Bytes of the current candidate frame in `buf` (0 = hunting for a sync).
    len: usize,
    /// Total length of the candidate, known once its header is complete (0 before).
    need: usize,
    /// Fresh bytes skipped outside any frame since the last report.
    skipped: u32,
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("len", &self.len)
            .field("need", &self.need)
            .field("skipped", &self.skipped)
            .finish()
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder hunting for a sync.
    pub const fn new() -> Self {
        Self {
            buf: [0; MAX_FRAME],
            len: 0,
            need: 0,
            skipped: 0,
        }
    }

    /// Whether nothing is pending: no partial frame buffered and no skipped bytes unreported.
    /// While this is `false`, the owner should call [`Decoder::timeout`] after an idle period.
    pub fn is_idle(&self) -> bool {
        self.len == 0 && self.skipped == 0
    }

    /// Forgets any partial frame and skipped-byte count.
    pub fn reset(&mut self) {
        self.len = 0;
        self.need = 0;
        self.skipped = 0;
    }

    /// Consumes one received byte and reports any resulting events to `sink` (zero, one or,
    /// after a rejected frame is rescanned, several).
    pub fn feed(&mut self, byte: u8, sink: &mut dyn FnMut(Event<'_>)) {
        if self.step(byte, true, sink) == Step::Rejected {
            self.recover(sink);
        }
    }

    /// Consumes a run of received bytes; see [`Decoder::feed`].
    pub fn feed_all(&mut self, bytes: &[u8], sink: &mut dyn FnMut(Event<'_>)) {
        for &b in bytes {
            self.feed(b, sink);
        }
    }

    /// The line has been idle too long: reports a partial frame as [`FrameError::Timeout`] and
    /// rescans its bytes, or reports skipped bytes as [`FrameError::Garbage`].
    pub fn timeout(&mut self, sink: &mut dyn FnMut(Event<'_>)) {
        if self.len >= SYNC.len() {
            let received = u16::try_from(self.len).unwrap_or(u16::MAX);
            sink(Event::Invalid {
                seq: self.seq(),
                error: FrameError::Timeout { received },
            });
            self.recover(sink);
        } else if self.len == 1 {
            // A lone first sync byte is garbage, not a frame.
            self.len = 0;
            self.skipped = self.skipped.saturating_add(1);
        }
        if self.len == 0 && self.skipped > 0 {
            self.report_garbage(sink);
        }
    }

    fn seq(&self) -> u8 {
        if self.len >= HEADER_LEN {
            self.buf.get(3).copied().unwrap_or(0)
        } else {
            0
        }
    }

    fn report_garbage(&mut self, sink: &mut dyn FnMut(Event<'_>)) {
        let skipped = core::mem::take(&mut self.skipped);
        sink(Event::Invalid {
            seq: 0,
            error: FrameError::Garbage { skipped },
        });
    }

    fn push(&mut self, byte: u8) -> bool {
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = byte;
                self.len = self.len.saturating_add(1);
                true
            }
            None => false,
        }
    }

    fn skip(&mut self, fresh: bool, n: u32) {
        if fresh {
            self.skipped = self.skipped.saturating_add(n);
        }
    }

    /// Advances the state machine by one byte. `fresh` is false while rescanning bytes that were
    /// already reported as part of a rejected frame (they do not count as garbage again).
    fn step(&mut self, byte: u8, fresh: bool, sink: &mut dyn FnMut(Event<'_>)) -> Step {
        match self.len {
            0 => {
                if byte == SYNC[0] {
                    self.push(byte);
                } else {
                    self.skip(fresh, 1);
                }
                Step::Consumed
            }
            1 => {
                if byte == SYNC[1] {
                    self.push(byte);
                    if self.skipped > 0 {
                        self.report_garbage(sink);
                    }
                } else if byte == SYNC[0] {
                    self.skip(fresh, 1); // the earlier 0xA5; this one may start the frame
                } else {
                    self.len = 0;
                    self.skip(fresh, 2);
                }
                Step::Consumed
            }
            _ => {
                if !self.push(byte) {
                    return Step::Rejected; // unreachable: `need` bounds `len`
                }
                if self.len == HEADER_LEN {
                    self.check_header(sink)
                } else if self.len == self.need {
                    self.check_frame(sink)
                } else {
                    Step::Consumed
                }
            }
        }
    }

    fn check_header(&mut self, sink: &mut dyn FnMut(Event<'_>)) -> Step {
        let (Some(&kind_byte), Some(&seq), Some(&l0), Some(&l1)) = (
            self.buf.get(2),
            self.buf.get(3),
            self.buf.get(4),
            self.buf.get(5),
        ) else {
            return Step::Rejected;
        };
        let len = u16::from_le_bytes([l0, l1]);
        let error = match Kind::from_byte(kind_byte) {
            None => FrameError::UnknownKind { kind: kind_byte },
            Some(kind) if usize::from(len) != kind.payload_len() => FrameError::Length {
                kind: kind_byte,
                len,
            },
            Some(kind) => {
                self.need = kind.frame_len();
                return Step::Consumed;
            }
        };
        sink(Event::Invalid { seq, error });
        Step::Rejected
    }

    fn check_frame(&mut self, sink: &mut dyn FnMut(Event<'_>)) -> Step {
        let need = self.need;
        let body_end = need.saturating_sub(CRC_LEN);
        let (Some(body), Some(crc_bytes)) = (
            self.buf.get(SYNC.len()..body_end),
            self.buf.get(body_end..need),
        ) else {
            return Step::Rejected;
        };
        let seq = self.seq();
        let received = <[u8; 4]>::try_from(crc_bytes)
            .map(u32::from_le_bytes)
            .unwrap_or(0);
        if crate::blob::crc32(body) != received {
            sink(Event::Invalid {
                seq,
                error: FrameError::Checksum { received },
            });
            return Step::Rejected;
        }
        let parsed = Kind::from_byte(self.buf.get(2).copied().unwrap_or(0))
            .and_then(|kind| message(kind, self.buf.get(HEADER_LEN..body_end).unwrap_or(&[])));
        match parsed {
            Some(message) => {
                sink(Event::Message { seq, message });
                self.len = 0;
                self.need = 0;
                Step::Consumed
            }
            None => Step::Rejected, // unreachable: the header check fixed kind and length
        }
    }

    /// Rescans the rejected candidate `buf[..len]` from its second byte, in place.
    ///
    /// Invariant: while rescanning, the new candidate's write index never passes the read index
    /// (both advance by at most one per byte, and writing starts at 0 while reading starts at 1).
    /// When a candidate found during the rescan is itself rejected, the unread rest is moved to
    /// follow its bytes and the rescan restarts from its second byte; every restart drops at least
    /// one byte, so this terminates.
    fn recover(&mut self, sink: &mut dyn FnMut(Event<'_>)) {
        let mut end = self.len;
        let mut pos = 1usize;
        self.len = 0;
        self.need = 0;
        while pos < end {
            let Some(&b) = self.buf.get(pos) else { break };
            pos = pos.saturating_add(1);
            if self.step(b, false, sink) == Step::Rejected {
                let cand = self.len;
                let rest = end.saturating_sub(pos);
                if cand > pos || end > MAX_FRAME {
                    break; // unreachable by the invariant; drop everything rather than panic
                }
                self.buf.copy_within(pos..end, cand);
                end = cand.saturating_add(rest);
                pos = 1;
                self.len = 0;
                self.need = 0;
            }
        }
        if pos < end {
            self.reset();
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use proptest::prelude::*;

    use super::*;

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
}
