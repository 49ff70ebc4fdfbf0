#!/usr/bin/env bash
# Usage: with-serial-qemu.sh COMMAND [ARGS...]
#
# Builds the `app` firmware (release) for FIRMWARE_TARGET (default thumbv7em-none-eabihf, i.e.
# QEMU mps2-an386), starts it in its QEMU machine (scripts/qemu.sh: -icount, so reported
# instruction counts are exact) with the board's UART on a local TCP port, runs COMMAND with
# every `@SERIAL@` argument replaced by `tcp:127.0.0.1:PORT`, prints the firmware's decoded log,
# and exits with COMMAND's exit code. QEMU is always killed.
#
# Environment: FIRMWARE_TARGET, FIRMWARE_FEATURES (cargo features), QEMU_MACHINE (as for
# qemu.sh), LENET_BLOB / LENET_GOLDEN (as for the build), SERIAL_PORT (default: a free port from
# 20000-29999), SERIAL_TIMEOUT (seconds QEMU may live, default 600).
set -euo pipefail
# Instruction counts and sizes are those of the plain compiler: CI's clippy wrapper
# (scripts/clippy-rustc, which turns off MIR optimizations) must not build the firmware.
unset RUSTC_WORKSPACE_WRAPPER

[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

target=${FIRMWARE_TARGET:-thumbv7em-none-eabihf}
cargo build --release --bin app --target "$target" ${FIRMWARE_FEATURES:+--features "$FIRMWARE_FEATURES"}
elf=target/$target/release/app
log=$(mktemp -t lenet-app-XXXXXX.defmt)
qemu_pid=

cleanup() {
    if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
        kill "$qemu_pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
    fi
    echo "--- firmware log ---" >&2
    defmt-print -e "$elf" <"$log" >&2 2>&1 || true
    rm -f "$log" "$log.err"
}
trap cleanup EXIT

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

for attempt in 1 2 3 4 5; do
    port=${SERIAL_PORT:-$((20000 + RANDOM % 10000))}
    if port_in_use "$port"; then
        [ -z "${SERIAL_PORT:-}" ] || { echo "port $port is in use" >&2; exit 2; }
        continue
    fi
    QEMU_TIMEOUT=${SERIAL_TIMEOUT:-600} QEMU_SERIAL="-serial tcp:127.0.0.1:$port,server=on,wait=off" \
        scripts/qemu.sh "$elf" >"$log" 2>"$log.err" &
    qemu_pid=$!
    for _ in $(seq 50); do
        port_in_use "$port" && break
        kill -0 "$qemu_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$qemu_pid" 2>/dev/null; then
        break
    fi
    cat "$log.err" >&2
    qemu_pid=
    [ -z "${SERIAL_PORT:-}" ] || { echo "QEMU could not listen on port $port" >&2; exit 2; }
    [ "$attempt" -lt 5 ] || { echo "QEMU could not start" >&2; exit 2; }
done

args=()
for a in "$@"; do
    args+=("${a//@SERIAL@/tcp:127.0.0.1:$port}")
done
echo "+ ${args[*]}" >&2
set +e
"${args[@]}"
rc=$?
set -e
exit "$rc"
