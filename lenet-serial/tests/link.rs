//! The client against a stand-in firmware, over both kinds of link: a TCP socket and a serial
//! device (a pseudo-terminal, which the client opens by path like a USB serial port).

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use lenet_core::protocol::{ClassifyResult, Decoder, Event, FrameError, Message, VERSION, encode};
use lenet_serial::{SerialClient, SerialError};

const TIMEOUT: Duration = Duration::from_secs(5);

/// Answers pings with a pong and classify requests with a result derived from the image (digit
/// `pixels[0] % 10`, logits `pixels[1..11]`); sends a stale result first, and an error frame
/// for a request whose first pixel is 0xEE. Runs until `stop` is set or the link fails.
fn firmware(mut link: impl Read + Write, stop: &AtomicBool) {
    let mut decoder = Decoder::new();
    let mut buf = [0u8; 256];
    while !stop.load(Ordering::Relaxed) {
        let n = match link.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                continue;
            }
            // A pseudo-terminal's master reports EIO until the client has opened its side.
            Err(_) => {
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let mut replies = Vec::new();
        decoder.feed_all(&buf[..n], &mut |event| {
            if let Event::Message { seq, message } = event {
                match message {
                    Message::Ping => replies.push(encode(seq, &Message::Pong { version: VERSION })),
                    Message::Classify(pixels) if pixels[0] == 0xEE => replies.push(encode(
                        seq,
                        &Message::Error(FrameError::Unexpected { kind: 0x01 }),
                    )),
                    Message::Classify(pixels) => {
                        let result = ClassifyResult {
                            digit: pixels[0] % 10,
                            logits: std::array::from_fn(|i| pixels[1 + i] as i8),
                            instructions: 1234,
                        };
                        // A stale reply to an earlier sequence number comes first: the client
                        // must skip it.
                        replies.push(encode(seq.wrapping_sub(1), &Message::Result(result)));
                        replies.push(encode(seq, &Message::Result(result)));
                    }
                    _ => {}
                }
            }
        });
        for r in replies {
            if link.write_all(r.as_bytes()).is_err() {
                return;
            }
        }
    }
}

fn exercise(client: &mut SerialClient) {
    assert_eq!(client.ping().unwrap(), VERSION);
    let mut pixels = [0u8; 784];
    for (i, p) in pixels.iter_mut().enumerate() {
        *p = (i * 7 + 3) as u8;
    }
    let reply = client.classify(&pixels).unwrap();
    assert_eq!(reply.digit, 3);
    assert_eq!(reply.instructions, 1234);
    assert_eq!(reply.logits, std::array::from_fn(|i| pixels[1 + i] as i8));
    pixels[0] = 0xEE;
    let err = client.classify(&pixels).unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<SerialError>(),
            Some(SerialError::Rejected(_))
        ),
        "{err:#}"
    );
}

#[test]
fn tcp_link() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let stop = stop.clone();
        thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_millis(20)))
                .unwrap();
            firmware(stream, &stop);
        })
    };
    let mut client = SerialClient::connect(&format!("tcp:{addr}"), TIMEOUT).unwrap();
    exercise(&mut client);
    stop.store(true, Ordering::Relaxed);
    drop(client);
    server.join().unwrap();
}

#[cfg(unix)]
#[test]
fn device_link() {
    use serialport::SerialPort as _;

    let (mut master, slave) = serialport::TTYPort::pair().expect("a pseudo-terminal pair");
    let path = slave.name().expect("the pseudo-terminal's path");
    // The client opens the device by path, exclusively: close this handle first.
    drop(slave);
    master.set_timeout(Duration::from_millis(20)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let device = {
        let stop = stop.clone();
        thread::spawn(move || firmware(master, &stop))
    };
    let mut client = SerialClient::connect(&path, TIMEOUT).unwrap();
    exercise(&mut client);
    stop.store(true, Ordering::Relaxed);
    drop(client);
    device.join().unwrap();
}

#[test]
fn missing_device_is_an_error() {
    let err = SerialClient::connect("/nonexistent/ttyACM9", TIMEOUT).unwrap_err();
    assert!(
        format!("{err:#}").contains("/nonexistent/ttyACM9"),
        "{err:#}"
    );
}
