//! What frames carry: the messages, the classify result and the error codes, and how a checked
//! payload turns into a message.

use core::fmt;

use super::frame::{ERROR_LEN, Kind, RESULT_LEN};
use crate::shape::{CLASSES, IN_LEN};

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
        /// Protocol version ([`VERSION`](crate::protocol::VERSION)).
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

/// Builds the message for a frame whose kind and payload length were already checked.
pub(super) fn message(kind: Kind, payload: &[u8]) -> Option<Message<'_>> {
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
