#!/usr/bin/env bash
# Usage: serial-garbage-test.sh [COUNT]
#
# Builds the host-side checker (serial-check, on the lenet-serial client) and runs it against
# the `app` firmware in QEMU: random bytes, a truncated frame, an oversize length, a bad checksum,
# an unknown kind and a truncated frame followed at once by a valid one must each get an error
# frame and leave the service answering correctly; then COUNT (default 5) golden images must come
# back bit-exact.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-5}
host_target=$(rustc -vV | sed -n 's/^host: //p')
(cd "$here/serial-check" && cargo build --release --target "$host_target")
checker="$here/serial-check/target/$host_target/release/serial-check"
golden=${LENET_GOLDEN:-$here/../tests/fixtures/golden.bin}
exec "$here/scripts/with-serial-qemu.sh" bash -c \
    '"$0" garbage --serial "$1" --golden "$2" && "$0" classify --serial "$1" --golden "$2" --count "$3"' \
    "$checker" @SERIAL@ "$golden" "$count"
