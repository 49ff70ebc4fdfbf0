//! The frame layout: sync, header, payload lengths, kinds.

use crate::shape::{CLASSES, IN_LEN};

/// The two bytes every frame starts with.
pub const SYNC: [u8; 2] = [0xA5, 0x5A];
/// Protocol version, reported in a [`Message::Pong`](crate::protocol::Message::Pong).
pub const VERSION: u8 = 1;
/// Bytes before the payload: sync, kind, sequence number, length.
pub const HEADER_LEN: usize = 6;
/// Bytes of the trailing CRC-32.
pub const CRC_LEN: usize = 4;
/// Largest payload of any frame kind (a
/// [`Message::Classify`](crate::protocol::Message::Classify) image).
pub const MAX_PAYLOAD: usize = IN_LEN;
/// Largest frame on the wire.
pub const MAX_FRAME: usize = HEADER_LEN + MAX_PAYLOAD + CRC_LEN;
/// Payload bytes of a [`Message::Result`](crate::protocol::Message::Result): digit, 10 logits,
/// instruction count.
pub const RESULT_LEN: usize = 1 + CLASSES + 4;
/// Payload bytes of a [`Message::Error`](crate::protocol::Message::Error): code and a 32-bit
/// detail.
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
