//! The serial classification service: `lenet_core::protocol` frames over any byte link.
//!
//! Requests are decoded byte by byte. A classify frame is answered with a result frame (digit,
//! int8 logits, cost of the inference), a ping with a pong; every rejected frame or byte run
//! (bad CRC, wrong length, unknown kind, garbage, a sender that stalls for [`FRAME_TIMEOUT_US`]
//! inside a frame) with an error frame, after which the decoder resynchronises.

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::OutputPin;
use embedded_io::{Read, ReadReady, Write};
use lenet_core::protocol::{ClassifyResult, Decoder, Event, FrameError, Message, VERSION, encode};
use lenet_core::shape::CLASSES;
use lenet_core::{I8Model, ScratchI8};
use micromath::F32Ext;

use crate::{InferenceMeter, classify};

/// Idle time inside a frame after which the partial frame is dropped and reported.
pub const FRAME_TIMEOUT_US: u32 = 200_000;
/// Poll interval while the link has no data.
pub const POLL_US: u32 = 100;

/// Everything the service drives.
pub struct Service<'m, L, P, D, M> {
    /// The byte link to the host.
    pub link: L,
    /// Driven high while an inference runs.
    pub busy: P,
    /// Paces polling and measures idle time.
    pub delay: D,
    /// Measures each inference.
    pub meter: M,
    /// The int8 network.
    pub model: I8Model<'m>,
    /// Its buffers.
    pub scratch: &'m mut ScratchI8,
}

impl<L, P, D, M> Service<'_, L, P, D, M>
where
    L: Read + ReadReady + Write,
    P: OutputPin,
    D: DelayNs,
    M: InferenceMeter,
{
    /// Serves requests forever. Link errors are logged and the service carries on.
    pub fn run(mut self) -> ! {
        let mut decoder = Decoder::new();
        let mut rx = [0u8; 64];
        let mut idle_us = 0u32;
        let mut served = 0u32;
        defmt::info!("serving lenet protocol v{=u8}", VERSION);
        loop {
            match self.link.read_ready() {
                Ok(true) => match self.link.read(&mut rx) {
                    Ok(n) => {
                        idle_us = 0;
                        for &b in rx.get(..n).unwrap_or(&[]) {
                            decoder.feed(b, &mut |event| self.handle(event, &mut served));
                        }
                    }
                    Err(e) => defmt::warn!("link read: {}", defmt::Debug2Format(&e)),
                },
                Ok(false) => {
                    if decoder.is_idle() {
                        idle_us = 0;
                    } else if idle_us >= FRAME_TIMEOUT_US {
                        idle_us = 0;
                        decoder.timeout(&mut |event| self.handle(event, &mut served));
                    }
                    self.delay.delay_us(POLL_US);
                    idle_us = idle_us.saturating_add(POLL_US);
                }
                Err(e) => defmt::warn!("link status: {}", defmt::Debug2Format(&e)),
            }
        }
    }

    fn handle(&mut self, event: Event<'_>, served: &mut u32) {
        let (seq, reply) = match event {
            Event::Message {
                seq,
                message: Message::Classify(pixels),
            } => {
                let _ = self.busy.set_high();
                self.meter.start();
                let prediction = classify(&self.model, pixels, self.scratch);
                let cost = self.meter.stop();
                let _ = self.busy.set_low();
                *served = served.wrapping_add(1);
                defmt::info!(
                    "request {=u32} (seq {=u8}): digit {=u8} ({=u8}%), {=u32} {=str}",
                    *served,
                    seq,
                    prediction.digit,
                    confidence_percent(&self.model, &prediction.logits, prediction.digit),
                    cost,
                    M::UNIT
                );
                let result = ClassifyResult {
                    digit: prediction.digit,
                    logits: prediction.logits,
                    instructions: cost,
                };
                (seq, Message::Result(result))
            }
            Event::Message {
                seq,
                message: Message::Ping,
            } => (seq, Message::Pong { version: VERSION }),
            Event::Message { seq, message } => {
                let kind = message.kind() as u8;
                defmt::warn!("seq {=u8}: frame kind {=u8:#04x} is not served", seq, kind);
                (seq, Message::Error(FrameError::Unexpected { kind }))
            }
            Event::Invalid { seq, error } => {
                defmt::warn!("seq {=u8}: rejected: {}", seq, error);
                (seq, Message::Error(error))
            }
        };
        if let Err(e) = self.link.write_all(encode(seq, &reply).as_bytes()) {
            defmt::warn!("link write: {}", defmt::Debug2Format(&e));
        }
    }
}

/// Softmax probability of `digit`, in percent, from the logits dequantized with the blob's logit
/// scale and zero point. For the log line only; approximate (`micromath`).
fn confidence_percent(model: &I8Model<'_>, logits: &[i8; CLASSES], digit: u8) -> u8 {
    // The logits' zero point cancels out of the softmax; only the scale matters.
    let scale = model.scales()[4];
    let max = logits.iter().copied().max().unwrap_or(0);
    let weight = |q: i8| ((i32::from(q) - i32::from(max)) as f32 * scale).exp();
    let total: f32 = logits.iter().map(|&q| weight(q)).sum();
    let p = logits.get(usize::from(digit)).map_or(0.0, |&q| weight(q)) / total;
    (p * 100.0).round() as u8
}
