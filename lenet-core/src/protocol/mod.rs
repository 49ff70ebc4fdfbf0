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

mod decode;
mod encode;
mod frame;
mod message;
#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
mod tests;

pub use decode::{Decoder, Event};
pub use encode::{EncodedFrame, encode};
pub use frame::{
    CRC_LEN, ERROR_LEN, HEADER_LEN, Kind, MAX_FRAME, MAX_PAYLOAD, RESULT_LEN, SYNC, VERSION,
};
pub use message::{ClassifyResult, FrameError, Message};
