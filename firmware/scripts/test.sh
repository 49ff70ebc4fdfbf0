#!/usr/bin/env bash
# The firmware checks CI runs, in order (run scripts/setup.sh first):
#   1. rustfmt and clippy -D warnings (QEMU and NUCLEO-F429ZI configurations, helper crates)
#   2. the QEMU self-test (`cargo run --release`), twice: both runs must pass and print the same
#      instruction count, and no inference may exceed the budget in icount-budget.txt
#   3. fault paths: a corrupted blob must exit 2, a wrong golden logit must exit 1
#   4. the NUCLEO-F429ZI build (built, not flashed)
#   5. the no-float check of the int8 path
#   6. the serial service's garbage resilience (QEMU, UART0 over TCP)
#   7. the footprint figures
# LENET_BLOB / LENET_GOLDEN select the blob and golden vectors (default: tests/fixtures/).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
host_target=$(rustc -vV | sed -n 's/^host: //p')
board_dir=target/nucleo-f429zi
step() { printf '\n==== %s\n' "$*"; }

step "fmt"
cargo fmt --check -p lenet-firmware -p nofloat-check
(cd serial-check && cargo fmt --check)

step "clippy (QEMU mps2-an386)"
cargo clippy --release --workspace --all-targets -q -- -D warnings
step "clippy (NUCLEO-F429ZI)"
cargo clippy --release --all-targets --features nucleo-f429zi --target-dir "$board_dir" -q -- -D warnings
step "clippy (serial-check, host)"
(cd serial-check && cargo clippy --release --target "$host_target" -q -- -D warnings)

step "self-test on QEMU mps2-an386: cargo run --release"
run_log=$(mktemp)
cargo run --release -q >"$run_log" || { cat "$run_log"; echo "FAIL: self-test"; exit 1; }
cat "$run_log"
first=$(grep 'instructions per inference' "$run_log")
range=$(grep 'range over' "$run_log")
cargo run --release -q >"$run_log" 2>/dev/null || { cat "$run_log"; echo "FAIL: self-test (second run)"; exit 1; }
second=$(grep 'instructions per inference' "$run_log")
rm -f "$run_log"
if [ "$first" != "$second" ]; then
    echo "FAIL: instruction count differs between runs: '$first' vs '$second'"
    exit 1
fi
echo "ok: two runs, same count ($first)"
# The committed instruction budget (icount-budget.txt: the last non-comment line) bounds the most
# expensive inference of the run.
budget=$(grep -v '^#' icount-budget.txt | tr -d '[:space:]')
most=$(grep -oE 'range over [0-9]+ images: [0-9]+ \.\. [0-9]+' <<<"$range" | grep -oE '[0-9]+$')
if [ -z "$most" ] || [ -z "$budget" ]; then
    echo "FAIL: could not read the instruction count ('$range') or the budget ('$budget')"
    exit 1
fi
if [ "$most" -gt "$budget" ]; then
    echo "FAIL: $most instructions per inference exceeds the budget of $budget (icount-budget.txt)"
    exit 1
fi
echo "ok: at most $most instructions per inference, budget $budget (icount-budget.txt)"

step "fault paths: corrupted blob exits 2, wrong golden logit exits 1"
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
    env "$@" cargo run --release -q --target-dir target/faults 2>&1 | tail -n 3
    local rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: expected exit $want, got $rc ($*)"
        exit 1
    fi
    echo "ok: exit $rc"
}
expect_exit 2 LENET_BLOB="$faults/bad.blob" LENET_GOLDEN="$golden"
expect_exit 1 LENET_BLOB="$blob" LENET_GOLDEN="$faults/bad-golden.bin"

step "NUCLEO-F429ZI build (cargo build --release --features nucleo-f429zi)"
cargo build --release --features nucleo-f429zi --target-dir "$board_dir" -q
echo "ok: $board_dir/thumbv7em-none-eabihf/release/{app,selftest}"

step "no float in the int8 path"
scripts/check-no-float.sh

step "serial service: garbage resilience over QEMU UART0"
scripts/serial-garbage-test.sh 3

step "footprint"
scripts/footprint.sh
