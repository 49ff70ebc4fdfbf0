//! Client for the firmware's serial classification service (`lenet_core::protocol`; the bytes are
//! specified in `docs/serial-protocol.md`).
//!
//! A link is either a TCP socket (`tcp:HOST:PORT`, e.g. QEMU's `-serial tcp:…,server=on`) or a
//! serial device path (e.g. `/dev/ttyACM0`, the ST-LINK virtual COM port of a Nucleo board). The
//! client opens a device itself, raw at [`BAUD_RATE`] baud, 8 data bits, no parity, one stop bit,
//! no flow control, with a short read timeout; the device needs no configuration beforehand.
//!
//! Every request carries a sequence number the firmware echoes, so replies to earlier, abandoned
//! requests are recognised and skipped. Error frames come back as [`SerialError::Rejected`],
//! silence as [`SerialError::Timeout`].
//!
//! ```no_run
//! use std::time::Duration;
//!
//! let mut client = lenet_serial::SerialClient::connect("tcp:127.0.0.1:4321", Duration::from_secs(10))?;
//! let reply = client.classify(&[0u8; 784])?;
//! assert!(reply.digit < 10);
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use lenet_core::protocol::{ClassifyResult, Decoder, Event, FrameError, Kind, Message, encode};
use lenet_core::shape::{CLASSES, IN_LEN};

/// Baud rate of a serial device link (the firmware's UART runs at 115200 8N1).
pub const BAUD_RATE: u32 = 115_200;
/// How long one read waits for data before the client re-checks its deadline.
const POLL: Duration = Duration::from_millis(20);
/// Idle time after which a partial reply frame is dropped.
const FRAME_GAP: Duration = Duration::from_millis(500);

/// The firmware's answer to one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialReply {
    /// The predicted digit.
    pub digit: u8,
    /// The int8 logits.
    pub logits: [i8; CLASSES],
    /// Instructions the inference took (QEMU `-icount`), or core cycles on a real board.
    pub instructions: u32,
}

impl From<ClassifyResult> for SerialReply {
    fn from(r: ClassifyResult) -> Self {
        Self {
            digit: r.digit,
            logits: r.logits,
            instructions: r.instructions,
        }
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum SerialError {
    /// No answer in time.
    #[error("no reply within {timeout:?}{}", corrupt_note(*.corrupt))]
    Timeout {
        /// The timeout.
        timeout: Duration,
        /// Frames from the device that failed to decode meanwhile (line noise).
        corrupt: usize,
    },
    /// The device answered with an error frame.
    #[error("the device rejected the request: {0}")]
    Rejected(FrameError),
    /// The device answered with a frame of the wrong kind.
    #[error("unexpected {0:?} frame in reply")]
    Unexpected(Kind),
    /// The device answered with a digit outside 0..=9.
    #[error("malformed reply: digit {0}")]
    BadDigit(u8),
    /// The TCP peer closed the connection.
    #[error("the device closed the link")]
    Closed,
}

fn corrupt_note(corrupt: usize) -> String {
    if corrupt == 0 {
        String::new()
    } else {
        format!(" ({corrupt} corrupt frames received)")
    }
}

/// What arrived from the device, owned.
#[derive(Debug, Clone, Copy)]
enum Incoming {
    Result(u8, ClassifyResult),
    Pong(u8, u8),
    Error(u8, FrameError),
    Other(u8, Kind),
    /// Bytes from the device that did not form a valid frame.
    Corrupt,
}

enum Port {
    Tcp(TcpStream),
    Device(Box<dyn serialport::SerialPort>),
}

impl Port {
    /// Reads what is available within about [`POLL`]; `Ok(0)` means nothing arrived.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, anyhow::Error> {
        match self {
            Self::Tcp(s) => match s.read(buf) {
                Ok(0) => Err(SerialError::Closed.into()),
                Ok(n) => Ok(n),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    Ok(0)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
                Err(e) => Err(anyhow::Error::new(e).context("reading from the device")),
            },
            // The port's read timeout is POLL: a read without data ends in `TimedOut`.
            Self::Device(p) => match p.read(buf) {
                Ok(n) => Ok(n),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut
                            | io::ErrorKind::WouldBlock
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    Ok(0)
                }
                Err(e) => Err(anyhow::Error::new(e).context("reading from the device")),
            },
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        match self {
            Self::Tcp(s) => s.write_all(bytes).and_then(|()| s.flush()),
            Self::Device(p) => p.write_all(bytes).and_then(|()| p.flush()),
        }
        .context("writing to the device")
    }
}

/// A connection to the firmware's serial service.
pub struct SerialClient {
    port: Port,
    decoder: Decoder,
    inbox: VecDeque<Incoming>,
    timeout: Duration,
    seq: u8,
    last_byte: Instant,
}

impl std::fmt::Debug for SerialClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialClient")
            .field("timeout", &self.timeout)
            .field("seq", &self.seq)
            .finish()
    }
}

impl SerialClient {
    /// Opens `spec` (`tcp:HOST:PORT` or a serial device path, which is opened raw at
    /// [`BAUD_RATE`] 8N1) and checks that a firmware answers a ping. `timeout` bounds the
    /// connection and every later request.
    ///
    /// # Errors
    /// A malformed spec, a connection or open failure, or no pong within `timeout`.
    pub fn connect(spec: &str, timeout: Duration) -> anyhow::Result<Self> {
        let port = if let Some(addr) = spec.strip_prefix("tcp:") {
            let addrs: Vec<_> = addr
                .to_socket_addrs()
                .with_context(|| format!("resolving {addr} (expected tcp:HOST:PORT)"))?
                .collect();
            let Some(first) = addrs.first() else {
                bail!("{addr} resolves to no address")
            };
            let stream = TcpStream::connect_timeout(first, timeout)
                .with_context(|| format!("connecting to {addr}"))?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(POLL))?;
            Port::Tcp(stream)
        } else {
            Port::Device(open_device(spec)?)
        };
        let mut client = Self {
            port,
            decoder: Decoder::new(),
            inbox: VecDeque::new(),
            timeout,
            seq: 0,
            last_byte: Instant::now(),
        };
        client
            .ping()
            .with_context(|| format!("no lenet firmware answering on {spec}"))?;
        Ok(client)
    }

    /// Sends a ping and returns the firmware's protocol version.
    ///
    /// # Errors
    /// As [`SerialClient::classify`].
    pub fn ping(&mut self) -> anyhow::Result<u8> {
        let seq = self.next_seq();
        self.port
            .write_all(encode(seq, &Message::Ping).as_bytes())?;
        match self.reply(seq)? {
            Incoming::Pong(_, version) => Ok(version),
            other => Err(unexpected(other).into()),
        }
    }

    /// Classifies one image (raw 8-bit pixels, row-major 28x28, 0 = background).
    ///
    /// # Errors
    /// [`SerialError`] (inside the `anyhow::Error`) for a timeout, an error frame, a wrong
    /// reply or a closed link; I/O errors of the port.
    pub fn classify(&mut self, pixels: &[u8; IN_LEN]) -> anyhow::Result<SerialReply> {
        let seq = self.next_seq();
        self.port
            .write_all(encode(seq, &Message::Classify(pixels)).as_bytes())?;
        match self.reply(seq)? {
            Incoming::Result(_, r) if usize::from(r.digit) < CLASSES => Ok(r.into()),
            Incoming::Result(_, r) => Err(SerialError::BadDigit(r.digit).into()),
            other => Err(unexpected(other).into()),
        }
    }

    /// Writes raw bytes to the link, bypassing framing (for testing the firmware's resilience).
    ///
    /// # Errors
    /// I/O errors of the port.
    pub fn send_raw(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.port.write_all(bytes)
    }

    /// Reads until the link has been quiet for `quiet` (at most the client's timeout) and returns
    /// the error frames received meanwhile, in order; other frames are dropped.
    ///
    /// # Errors
    /// I/O errors of the port, or a closed link.
    pub fn drain_errors(&mut self, quiet: Duration) -> anyhow::Result<Vec<FrameError>> {
        let start = Instant::now();
        let mut quiet_since = Instant::now();
        let mut errors = Vec::new();
        while quiet_since.elapsed() < quiet && start.elapsed() < self.timeout.max(quiet) {
            if self.fill()? {
                quiet_since = Instant::now();
            }
            errors.extend(self.inbox.drain(..).filter_map(|m| match m {
                Incoming::Error(_, e) => Some(e),
                _ => None,
            }));
        }
        Ok(errors)
    }

    fn next_seq(&mut self) -> u8 {
        // 0 marks device errors not tied to a request; requests use 1..=255.
        self.seq = self.seq.checked_add(1).unwrap_or(1);
        self.seq
    }

    /// Waits for the frame answering `seq`; frames for other sequence numbers are stale.
    fn reply(&mut self, seq: u8) -> Result<Incoming, anyhow::Error> {
        let deadline = Instant::now() + self.timeout;
        let mut corrupt = 0;
        loop {
            while let Some(m) = self.inbox.pop_front() {
                match m {
                    Incoming::Error(s, e) if s == seq => {
                        return Err(SerialError::Rejected(e).into());
                    }
                    Incoming::Result(s, _) | Incoming::Pong(s, _) | Incoming::Other(s, _)
                        if s == seq =>
                    {
                        return Ok(m);
                    }
                    Incoming::Corrupt => corrupt += 1,
                    _ => {} // stale reply, or a device error about bytes outside any request
                }
            }
            if Instant::now() >= deadline {
                return Err(SerialError::Timeout {
                    timeout: self.timeout,
                    corrupt,
                }
                .into());
            }
            self.fill()?;
        }
    }

    /// Reads once and decodes; returns whether bytes arrived.
    fn fill(&mut self) -> anyhow::Result<bool> {
        let mut buf = [0u8; 1024];
        let n = self.port.read(&mut buf)?;
        let inbox = &mut self.inbox;
        let mut sink = |event: Event<'_>| {
            inbox.push_back(match event {
                Event::Message { seq, message } => match message {
                    Message::Result(r) => Incoming::Result(seq, r),
                    Message::Pong { version } => Incoming::Pong(seq, version),
                    Message::Error(e) => Incoming::Error(seq, e),
                    other => Incoming::Other(seq, other.kind()),
                },
                Event::Invalid { .. } => Incoming::Corrupt,
            });
        };
        if n > 0 {
            self.last_byte = Instant::now();
            self.decoder
                .feed_all(buf.get(..n).unwrap_or(&[]), &mut sink);
        } else if !self.decoder.is_idle() && self.last_byte.elapsed() >= FRAME_GAP {
            self.decoder.timeout(&mut sink);
        }
        Ok(n > 0)
    }
}

/// Opens serial device `path` raw at [`BAUD_RATE`] baud, 8N1, no flow control, with reads that
/// give up after [`POLL`] without data.
fn open_device(path: &str) -> anyhow::Result<Box<dyn serialport::SerialPort>> {
    serialport::new(path, BAUD_RATE)
        .data_bits(serialport::DataBits::Eight)
        .parity(serialport::Parity::None)
        .stop_bits(serialport::StopBits::One)
        .flow_control(serialport::FlowControl::None)
        .timeout(POLL)
        .open()
        .with_context(|| {
            format!("opening serial device {path} (expected tcp:HOST:PORT or a device path)")
        })
}

fn unexpected(m: Incoming) -> SerialError {
    match m {
        Incoming::Result(..) => SerialError::Unexpected(Kind::Result),
        Incoming::Pong(..) => SerialError::Unexpected(Kind::Pong),
        Incoming::Error(_, e) => SerialError::Rejected(e),
        Incoming::Other(_, k) => SerialError::Unexpected(k),
        Incoming::Corrupt => SerialError::Unexpected(Kind::Error),
    }
}
