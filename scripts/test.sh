#!/usr/bin/env bash
# Runs every test of the project: the host workspace (lenet-core, host, parity tests on real MNIST)
# and the firmware under QEMU (the core matrix with golden vectors, serial classification, garbage
# resilience, no-float check, real-board builds). Needs MNIST (MNIST_DIR, or data/mnist, or a
# network connection). It first installs what the tests need (lavapipe, QEMU, defmt-print, the
# targets, llvm-tools: scripts/setup.sh), which is a no-op where they are present.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
if [ -n "${MNIST_DIR:-}" ]; then
    MNIST_DIR=$(realpath "$MNIST_DIR")
    export MNIST_DIR
fi
step() { printf '\n==== %s (%s)\n' "$*" "$(date -u +%T)"; }

step "set-up: scripts/setup.sh"
scripts/setup.sh
# The wgpu training test must run (on lavapipe where there is no GPU), not skip.
export LENET_EXPECT_WGPU=1

step "web: the committed web/www/pkg is what web/build.sh builds from the sources"
web/build.sh --check

step "host workspace: cargo test --workspace"
cargo test --workspace

step "firmware: QEMU self-test, board build, no-float check, garbage resilience, footprint"
firmware/scripts/test.sh

step "firmware: 100 test images classified over the emulated UART, compared with lenet-core"
# The host binary `cargo test --workspace` built for its CLI tests.
firmware/scripts/serial-test.sh target/debug/host 100
