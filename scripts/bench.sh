#!/usr/bin/env bash
# Every speed and size figure of docs/performance.md in one run (not part of CI: timings need a
# quiet machine). Host: `host bench` (lenet-core latency and throughput, training CPU-seconds per
# epoch). MCU: the QEMU self-test's exact instruction count and RAM, then the flash footprint.
# Needs $MNIST_DIR (or --data-dir), QEMU and the Cortex-M target (firmware/scripts/setup.sh).
#   scripts/bench.sh [host bench flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==== %s\n' "$*"; }

step "host: cargo run --release -p host -- bench $*"
cargo run --release -q -p host -- bench "$@"

step "host: criterion benches (cargo bench -p lenet-core --bench forward) are the detailed view"

step "MCU: Cortex-M4 under QEMU icount (cd firmware && cargo run --release)"
(cd firmware && cargo run --release -q 2>/dev/null) | grep -E "instructions per inference|range over|static RAM|peak stack|PASS"

step "MCU: per layer (cd firmware && cargo run --release --bin layers)"
(cd firmware && cargo run --release -q --bin layers 2>/dev/null) | tail -n 8

step "MCU: flash and RAM footprint (firmware/scripts/footprint.sh)"
firmware/scripts/footprint.sh
