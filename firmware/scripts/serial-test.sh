#!/usr/bin/env bash
# Usage: serial-test.sh HOST_BINARY [COUNT]
#
# Runs `HOST_BINARY classify --serial tcp:127.0.0.1:PORT --count COUNT` (default 10) against the
# `app` firmware in QEMU (UART0 on the TCP port) and exits with its exit code; QEMU is always
# killed. See with-serial-qemu.sh for the environment variables.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 HOST_BINARY [COUNT]" >&2; exit 2; }
host_bin=$(realpath "$1")
count=${2:-10}
repo=$(cd "$(dirname "$0")/../.." && pwd)
blob=$(realpath "${LENET_BLOB:-$repo/tests/fixtures/lenet-int8.blob}")
exec "$(dirname "$0")/with-serial-qemu.sh" "$host_bin" classify --serial @SERIAL@ --count "$count" --weights "$blob"
