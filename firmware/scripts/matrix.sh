#!/usr/bin/env bash
# Usage: matrix.sh [--int4] [ROW...]
#
# The emulated core matrix: the self-test on every core class under QEMU with exact instruction
# counting (-icount shift=0). One line per row, exactly
#   <target> on <machine>: golden <k>/<n> bit-exact, <N> instructions per inference, <R> B RAM
# where N is the first golden image's count and R is static RAM plus peak stack. A row fails on
# a golden mismatch, a kernel-check mismatch, a fault or a hang (the self-test's exit code), on
# the wrong core or kernel family (the self-test names both), or when its most expensive
# inference exceeds the row's budget in icount-budget.txt. Exits non-zero if any row fails.
#
# The thumbv6m image runs on the Cortex-M3 of mps2-an385 (no QEMU machine has a Cortex-M0 with
# room for the 1.20 MiB blob; `microbit` has 256 KiB of flash). Two checks make that row stand for
# a Cortex-M0/M0+: the image traps unaligned accesses (CCR.UNALIGN_TRP, set by the board glue),
# which a Cortex-M3 would allow and a Cortex-M0 faults on, and every instruction of the image
# must decode as ARMv6-M (llvm-objdump --mcpu=cortex-m0; likewise ARMv7-M without DSP for the
# thumbv7m image), so no instruction the M3 has and the M0 lacks can hide in it.
#
# Rows that share a target share one build: the thumbv7em image runs on mps2-an386 (Cortex-M4F)
# and mps2-an500 (Cortex-M7). ROW selects rows by machine name (e.g. `matrix.sh mps2-an500`).
# --int4 runs the rows with the compact blob (tests/fixtures/lenet-int4.blob, int4 fc1) and its
# golden vectors instead of the int8 ones; its budgets are the `int4` lines of icount-budget.txt.
# Logs go to target/matrix/<target>-<machine>-<int8|int4>.log, and one tab-separated line per row
# (target, machine, first and largest count, static RAM, peak stack, code bytes of the self-test
# image) to target/matrix/summary-<int8|int4>.tsv, which scripts/footprint.sh prints. LENET_BLOB / LENET_GOLDEN
# select the inputs.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
blob_kind=int8
if [ "${1:-}" = "--int4" ]; then
    blob_kind=int4
    shift
    export LENET_BLOB=$here/../tests/fixtures/lenet-int4.blob
    export LENET_GOLDEN=$here/../tests/fixtures/golden-int4.bin
fi
logs=target/matrix
mkdir -p "$logs"

# target | machine | cargo features | target dir | expected core | expected kernels | cargo config
# (the M55 image adds mve.toml: Helium on top of the DSP extension)
rows=(
    "thumbv6m-none-eabi|mps2-an385||target|Cortex-M3|portable|"
    "thumbv7m-none-eabi|mps2-an385||target|Cortex-M3|portable|"
    "thumbv7em-none-eabihf|mps2-an386||target|Cortex-M4|Arm DSP|"
    "thumbv7em-none-eabihf|mps2-an500||target|Cortex-M7|Arm DSP|"
    "thumbv8m.main-none-eabihf|mps2-an505||target|Cortex-M33|Arm DSP|"
    "thumbv8m.main-none-eabihf|mps3-an547|mps3-an547|target/mps3-an547|Cortex-M55|Arm Helium|mve.toml"
    "riscv32imc-unknown-none-elf|virt||target|RISC-V RV32|portable|"
)

tools="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"
objdump="$tools/llvm-objdump"
size="$tools/llvm-size"

# Code bytes of ELF $1: vector table (Arm) + .text.
code_bytes() {
    "$size" -A "$1" | awk '$1 == ".vector_table" || $1 == ".text" || $1 == ".init" || $1 == ".trap" { n += $2 } END { print n + 0 }'
}

# Instructions of ELF $2 that do not decode for CPU $1 (llvm-objdump prints `<unknown>`).
foreign_instructions() {
    "$objdump" -d --mcpu="$1" "$2" | grep -c '<unknown>' || true
}

budget_of() {
    awk -v t="$1" -v m="$2" -v b="$blob_kind" '!/^#/ && $1 == t && $2 == m && $3 == b { print $4 }' icount-budget.txt
}

failed=0
summary=$logs/summary-$blob_kind.tsv
: >"$summary"
for row in "${rows[@]}"; do
    IFS='|' read -r target machine features dir core kernels config <<<"$row"
    if [ $# -gt 0 ] && [[ " $* " != *" $machine "* ]]; then
        continue
    fi
    log="$logs/$target-$machine-$blob_kind.log"
    cargo=(--release -q --bin selftest --target "$target" --target-dir "$dir" ${features:+--features "$features"}
        ${config:+--config "$config"})
    cargo build "${cargo[@]}"
    set +e
    QEMU_MACHINE=$machine QEMU_TIMEOUT=${QEMU_TIMEOUT:-600} cargo run "${cargo[@]}" >"$log" 2>&1
    rc=$?
    set -e
    why=()
    [ "$rc" -eq 0 ] || why+=("self-test exit code $rc (1 mismatch, 2 bad blob, 3 bad golden, 101 panic, 102 fault, 124 hang)")
    grep -q "self-test on .*: $core ($kernels int8 kernels)" "$log" ||
        why+=("expected $core with $kernels kernels, log says: $(grep -o 'self-test on .*' "$log" | head -n1)")
    golden=$(grep -oE '(PASS|FAIL): [0-9]+/[0-9]+ golden' "$log" | grep -oE '[0-9]+/[0-9]+' || true)
    first=$(grep -oE 'instructions per inference: [0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    most=$(grep -oE 'range over [0-9]+ images: [0-9]+ \.\. [0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    statics=$(grep -oE 'static RAM: [0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    stack=$(grep -oE 'peak stack: [0-9]+' "$log" | grep -oE '[0-9]+' | head -n1 || true)
    elf=$dir/$target/release/selftest
    case "$target" in
        thumbv6m-*) isa=cortex-m0 ;;
        thumbv7m-*) isa=cortex-m3 ;;
        *) isa= ;;
    esac
    if [ -n "$isa" ]; then
        foreign=$(foreign_instructions "$isa" "$elf")
        [ "$foreign" -eq 0 ] || why+=("$foreign instructions of $elf are not $isa instructions")
    fi
    budget=$(budget_of "$target" "$machine")
    if [ -z "$budget" ]; then
        why+=("no budget for '$target $machine $blob_kind' in icount-budget.txt")
    elif [ -n "$most" ] && [ "$most" -gt "$budget" ]; then
        why+=("$most instructions per inference exceeds the budget of $budget")
    fi
    [ -n "$golden" ] && [ -n "$first" ] && [ -n "$statics" ] && [ -n "$stack" ] ||
        why+=("incomplete self-test output (see $log)")
    echo "$target on $machine: golden ${golden:-0/0} bit-exact, ${first:-?} instructions per inference, $(( ${statics:-0} + ${stack:-0} )) B RAM"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$machine" "${first:-}" "${most:-}" \
        "${statics:-}" "${stack:-}" "$(code_bytes "$elf")" >>"$summary"
    if [ ${#why[@]} -gt 0 ]; then
        failed=1
        for w in "${why[@]}"; do echo "  FAIL: $w"; done
        tail -n 5 "$log" | sed 's/^/  | /'
    fi
done
exit "$failed"
