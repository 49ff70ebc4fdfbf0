#!/usr/bin/env bash
# The firmware checks CI runs, in order (scripts/setup.sh installs what they need):
#   1. rustfmt and clippy -D warnings (every QEMU target, the boards, helper crates)
#   2. the QEMU self-test on the Cortex-M4 (`cargo run --release`), twice: both runs must pass
#      and print the same instruction count
#   3. the core matrix (scripts/matrix.sh): the self-test on every core class, each row within
#      its instruction budget (icount-budget.txt); then the compact int4 blob on the Cortex-M4
#      (DSP kernels), the ARMv6-M and ARMv7-M rows and RISC-V (portable)
#   4. the rounding-tie stress set (tests/fixtures/tie-stress.blob, docs/quantization.md) on the
#      Cortex-M4 and RISC-V; then the fault paths: a corrupted blob must exit 2, a wrong golden
#      logit must exit 1 (Cortex-M4 and RISC-V)
#   5. the board builds: NUCLEO-F429ZI, Raspberry Pi Pico and Pico 2, ESP32-C3, nRF52840-DK
#      with the compact blob (built, not flashed)
#   6. the no-float check of the int8 path
#   7. the serial service's garbage resilience (QEMU, the UART over TCP) on a portable core
#      (Cortex-M3), a DSP core (Cortex-M4) and RISC-V
#   8. the footprint figures
# LENET_BLOB / LENET_GOLDEN select the blob and golden vectors (default: tests/fixtures/).
set -euo pipefail
# Instruction counts and sizes are those of the plain compiler: CI's clippy wrapper
# (scripts/clippy-rustc, which turns off MIR optimizations) must not build the firmware.
unset RUSTC_WORKSPACE_WRAPPER

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
host_target=$(rustc -vV | sed -n 's/^host: //p')
board_dir=target/nucleo-f429zi
step() { printf '\n==== %s (%s)\n' "$*" "$(date -u +%T)"; }

step "fmt"
cargo fmt --check -p lenet-firmware -p nofloat-check
(cd serial-check && cargo fmt --check)

step "clippy (QEMU: every target)"
cargo clippy --release --workspace --all-targets -q -- -D warnings
for target in thumbv6m-none-eabi thumbv7m-none-eabi thumbv8m.main-none-eabihf riscv32imc-unknown-none-elf; do
    cargo clippy --release --all-targets --target "$target" -q -- -D warnings
done
cargo clippy --release --all-targets --target thumbv8m.main-none-eabihf --features mps3-an547 \
    --config mve.toml --target-dir target/mps3-an547 -q -- -D warnings
step "clippy (boards)"
cargo clippy --release --all-targets --features nucleo-f429zi --target-dir "$board_dir" -q -- -D warnings
cargo clippy --release --all-targets --features rpi-pico --target thumbv6m-none-eabi --target-dir target/rpi-pico -q -- -D warnings
cargo clippy --release --all-targets --features rpi-pico2 --target thumbv8m.main-none-eabihf --target-dir target/rpi-pico2 -q -- -D warnings
cargo clippy --release --all-targets --features esp32c3 --target riscv32imc-unknown-none-elf --target-dir target/esp32c3 -q -- -D warnings
cargo clippy --release --all-targets --features nrf52840-dk --target-dir target/nrf52840-dk -q -- -D warnings
step "clippy (serial-check, host)"
(cd serial-check && cargo clippy --release --target "$host_target" -q -- -D warnings)

step "self-test on QEMU mps2-an386: cargo run --release"
run_log=$(mktemp)
cargo run --release -q >"$run_log" || { cat "$run_log"; echo "FAIL: self-test"; exit 1; }
cat "$run_log"
first=$(grep 'instructions per inference' "$run_log")
cargo run --release -q >"$run_log" 2>/dev/null || { cat "$run_log"; echo "FAIL: self-test (second run)"; exit 1; }
second=$(grep 'instructions per inference' "$run_log")
rm -f "$run_log"
if [ "$first" != "$second" ]; then
    echo "FAIL: instruction count differs between runs: '$first' vs '$second'"
    exit 1
fi
echo "ok: two runs, same count ($first)"

step "core matrix: scripts/matrix.sh"
scripts/matrix.sh
step "core matrix, compact int4 blob (DSP and portable cores): scripts/matrix.sh --int4"
scripts/matrix.sh --int4 mps2-an386 mps2-an385 virt

step "rounding-tie stress set (tests/fixtures/tie-stress.blob): Cortex-M4 (Arm DSP), RISC-V (portable)"
for target in thumbv7em-none-eabihf riscv32imc-unknown-none-elf; do
    LENET_BLOB=$here/../tests/fixtures/tie-stress.blob \
        LENET_GOLDEN=$here/../tests/fixtures/golden-tie-stress.bin \
        cargo run --release -q --target-dir target/faults --target "$target" 2>&1 | tail -n 2
    echo "ok: $target"
done

step "fault paths: corrupted blob exits 2, wrong golden logit exits 1 (Cortex-M4, RISC-V)"
faults=$(mktemp -d)
trap 'rm -rf "$faults"' EXIT
blob=${LENET_BLOB:-$here/../tests/fixtures/lenet-int8.blob}
golden=${LENET_GOLDEN:-$here/../tests/fixtures/golden.bin}
cp "$blob" "$faults/bad.blob"
printf '\xff' | dd of="$faults/bad.blob" bs=1 seek=1000 conv=notrunc status=none
cp "$golden" "$faults/bad-golden.bin"
# flip the first expected logit (byte 786 of record 0)
orig=$(od -An -tu1 -j786 -N1 "$golden" | tr -d ' ')
printf "\\$(printf '%03o' $(((orig + 1) % 256)))" | dd of="$faults/bad-golden.bin" bs=1 seek=786 conv=notrunc status=none
expect_exit() {
    local want=$1
    shift
    set +e
    local vars=() args=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do vars+=("$1"); shift; done
    [ $# -eq 0 ] || { shift; args=("$@"); }
    env "${vars[@]}" cargo run --release -q --target-dir target/faults "${args[@]}" 2>&1 | tail -n 3
    local rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: expected exit $want, got $rc (${vars[*]} ${args[*]})"
        exit 1
    fi
    echo "ok: exit $rc"
}
expect_exit 2 LENET_BLOB="$faults/bad.blob" LENET_GOLDEN="$golden"
expect_exit 1 LENET_BLOB="$blob" LENET_GOLDEN="$faults/bad-golden.bin"
expect_exit 1 LENET_BLOB="$blob" LENET_GOLDEN="$faults/bad-golden.bin" -- --target riscv32imc-unknown-none-elf
# A hang, as the runner sees it: the RISC-V self-test runs about a billion instructions (about a
# second of QEMU), far more than a 50 ms limit allows, so the runner must end it with exit 124.
expect_exit 124 QEMU_TIMEOUT=0.05 -- --target riscv32imc-unknown-none-elf

step "board builds (built, not flashed)"
boards=(
    "nucleo-f429zi|thumbv7em-none-eabihf"
    "rpi-pico|thumbv6m-none-eabi"
    "rpi-pico2|thumbv8m.main-none-eabihf"
    "esp32c3|riscv32imc-unknown-none-elf"
    "nrf52840-dk|thumbv7em-none-eabihf"
)
for b in "${boards[@]}"; do
    IFS='|' read -r feature target <<<"$b"
    cargo build --release -q --features "$feature" --target "$target" --target-dir "target/$feature"
    echo "ok: $feature: target/$feature/$target/release/{app,selftest}"
done

step "no float in the int8 path"
scripts/check-no-float.sh

step "serial service: garbage resilience over QEMU UART0 (Cortex-M4, DSP kernels)"
scripts/serial-garbage-test.sh 3
step "serial service: garbage resilience over QEMU UART0 (Cortex-M3, portable kernels)"
FIRMWARE_TARGET=thumbv7m-none-eabi scripts/serial-garbage-test.sh 3
step "serial service: garbage resilience over the QEMU virt UART (RISC-V, portable kernels)"
FIRMWARE_TARGET=riscv32imc-unknown-none-elf scripts/serial-garbage-test.sh 3

step "footprint"
scripts/footprint.sh
