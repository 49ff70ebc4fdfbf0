//! The incremental frame decoder.

use core::fmt;

use super::frame::{CRC_LEN, HEADER_LEN, Kind, MAX_FRAME, SYNC};
use super::message::{FrameError, Message, message};
use crate::blob::crc32;

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
        if crc32(body) != received {
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
