//! An `embedded-io` 0.7 byte link over `embedded-hal-nb` serial halves, for the HALs whose UARTs
//! implement `embedded-io` 0.6 only: stm32f4xx-hal 0.23 (NUCLEO-F429ZI) and rp2040-hal 0.11
//! (Raspberry Pi Pico).

use embedded_hal_nb::serial::{Error as _, ErrorKind, Read as NbRead, Write as NbWrite};

/// A serial error (overrun, framing, parity, noise) from the UART.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkError(pub ErrorKind);

impl core::fmt::Display for LinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "serial error: {:?}", self.0)
    }
}

impl core::error::Error for LinkError {}

impl embedded_io::Error for LinkError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

/// Adapts `embedded-hal-nb` serial halves to `embedded-io` 0.7 `Read`, `ReadReady` and `Write`.
pub struct NbLink<TX, RX> {
    tx: TX,
    rx: RX,
    /// A byte taken by `read_ready` and not yet handed out.
    peeked: Option<u8>,
}

impl<TX, RX> NbLink<TX, RX> {
    /// Wraps the transmit and receive halves.
    pub fn new(tx: TX, rx: RX) -> Self {
        Self {
            tx,
            rx,
            peeked: None,
        }
    }
}

impl<TX, RX> embedded_io::ErrorType for NbLink<TX, RX> {
    type Error = LinkError;
}

impl<TX, RX: NbRead<u8>> NbLink<TX, RX> {
    fn try_byte(&mut self) -> Result<Option<u8>, LinkError> {
        if let Some(b) = self.peeked.take() {
            return Ok(Some(b));
        }
        match self.rx.read() {
            Ok(b) => Ok(Some(b)),
            Err(nb::Error::WouldBlock) => Ok(None),
            Err(nb::Error::Other(e)) => Err(LinkError(e.kind())),
        }
    }
}

impl<TX, RX: NbRead<u8>> embedded_io::Read for NbLink<TX, RX> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, LinkError> {
        let mut n = 0;
        for slot in buf.iter_mut() {
            let byte = loop {
                match self.try_byte()? {
                    Some(b) => break Some(b),
                    None if n > 0 => break None,
                    None => {}
                }
            };
            match byte {
                Some(b) => {
                    *slot = b;
                    n += 1;
                }
                None => break,
            }
        }
        Ok(n)
    }
}

impl<TX, RX: NbRead<u8>> embedded_io::ReadReady for NbLink<TX, RX> {
    fn read_ready(&mut self) -> Result<bool, LinkError> {
        if self.peeked.is_none() {
            self.peeked = self.try_byte()?;
        }
        Ok(self.peeked.is_some())
    }
}

impl<TX: NbWrite<u8>, RX> embedded_io::Write for NbLink<TX, RX> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, LinkError> {
        for &b in buf {
            nb::block!(self.tx.write(b)).map_err(|e| LinkError(e.kind()))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), LinkError> {
        nb::block!(self.tx.flush()).map_err(|e| LinkError(e.kind()))
    }
}
