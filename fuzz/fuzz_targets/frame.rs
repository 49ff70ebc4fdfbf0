//! The serial frame decoder on an arbitrary byte stream, with line-idle timeouts wherever the
//! input says so. Nothing may panic; every frame it accepts must survive an encode/decode round
//! trip unchanged; repeated timeouts must always bring it back to idle.
#![no_main]

use lenet_core::protocol::{Decoder, Event, encode};
use libfuzzer_sys::fuzz_target;

/// Calls `timeout` until the decoder is idle; each call rescans at least one byte less.
fn drain(decoder: &mut Decoder, sink: &mut dyn FnMut(Event<'_>)) {
    for _ in 0..=1024 {
        if decoder.is_idle() {
            return;
        }
        decoder.timeout(sink);
    }
    panic!("decoder never became idle");
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks where timeouts fall: after every byte equal to it (none for 0).
    let Some((&idle_marker, stream)) = data.split_first() else {
        return;
    };
    let mut decoder = Decoder::new();
    let mut sink = |event: Event<'_>| {
        if let Event::Message { seq, message } = event {
            let frame = encode(seq, &message);
            let mut again = Decoder::new();
            let mut seen = 0;
            again.feed_all(frame.as_bytes(), &mut |e| {
                seen += 1;
                assert_eq!(e, Event::Message { seq, message });
            });
            assert_eq!(seen, 1);
        }
    };
    for &byte in stream {
        decoder.feed(byte, &mut sink);
        if byte == idle_marker && idle_marker != 0 {
            drain(&mut decoder, &mut sink);
        }
    }
    drain(&mut decoder, &mut sink);
});
