#!/usr/bin/env bash
# The cargo runner of every target (.cargo/config.toml): cargo appends the ELF path.
# - A real-board build carries a `probe-rs-chip=<name>` marker: flash and run it with probe-rs
#   (defmt over RTT).
# - An ESP32 build carries an `espflash-chip=<chip>` marker: flash it with espflash, with the
#   partition table memory/<chip>-partitions.csv when there is one, and decode its defmt log
#   from the serial port (ESPFLASH_PORT, or espflash's own port selection, picks the port).
# - Otherwise run it in the QEMU machine it names (scripts/qemu.sh) and decode the defmt stream
#   with defmt-print; pipefail makes the firmware's exit code (or timeout's 124) the exit code of
#   `cargo run`.
set -euo pipefail

elf=${1:?usage: run.sh ELF}
chip=$(grep -aoE -m1 'probe-rs-chip=[A-Za-z0-9_]+' "$elf" | head -n1 | cut -d= -f2 || true)
if [ -n "$chip" ]; then
    exec probe-rs run --chip "$chip" "$elf"
fi
esp=$(grep -aoE -m1 'espflash-chip=[a-z0-9]+' "$elf" | head -n1 | cut -d= -f2 || true)
if [ -n "$esp" ]; then
    args=(flash --monitor --log-format defmt --chip "$esp")
    partitions="$(dirname "$0")/../memory/$esp-partitions.csv"
    if [ -f "$partitions" ]; then
        args+=(--partition-table "$partitions")
    fi
    exec espflash "${args[@]}" "$elf"
fi
"$(dirname "$0")/qemu.sh" "$elf" | defmt-print -e "$elf"
