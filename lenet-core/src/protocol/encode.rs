//! The frame encoder.

use core::fmt;

use super::frame::{MAX_FRAME, SYNC};
use super::message::Message;
use crate::blob::crc32;

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
    let crc = crc32(c.buf.get(SYNC.len()..end).unwrap_or(&[]));
    c.put(&crc.to_le_bytes());
    let len = c.pos;
    EncodedFrame { bytes, len }
}
