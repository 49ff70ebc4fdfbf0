//! The checksum of the blob and of the serial frames.

/// CRC-32 (IEEE 802.3, the zlib/PNG polynomial) of `bytes`, as the blob and the serial frames
/// use it.
///
/// One 256-entry table (1 KiB of flash): on a Cortex-M4 it checks a 1.20 MiB blob in about
/// 9 M instructions at boot, where a 16-table variant would cost 16 KiB of flash for a few
/// milliseconds saved once.
pub fn crc32(bytes: &[u8]) -> u32 {
    const CRC32: crc::Crc<u32, crc::Table<1>> =
        crc::Crc::<u32, crc::Table<1>>::new(&crc::CRC_32_ISO_HDLC);
    CRC32.checksum(bytes)
}
