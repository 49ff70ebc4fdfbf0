#!/usr/bin/env bash
# Prints the firmware's footprint: instructions per inference (QEMU mps2-an386, -icount),
# flash split into code / weights / other, and RAM (static + peak stack), for the QEMU build
# and, with --board (or when it was built before), the NUCLEO-F429ZI build.
#
# Usage: footprint.sh [--board]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
tools="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"
size="$tools/llvm-size"
nm="$tools/llvm-nm"
[ -x "$size" ] || size=$(command -v llvm-size || command -v arm-none-eabi-size)
[ -x "$nm" ] || nm=$(command -v llvm-nm || command -v arm-none-eabi-nm)

board_dir=target/nucleo-f429zi
if [ "${1:-}" = "--board" ]; then
    cargo build --release --features nucleo-f429zi --target-dir "$board_dir" -q
fi
cargo build --release -q

# section size of ELF $1
section() { "$size" -A "$2" | awk -v s="$1" '$1 == s { print $2; found = 1 } END { if (!found) print 0 }'; }
# size of the static whose demangled path contains $1
symbol() {
    local hex
    hex=$("$nm" -C -S "$2" | awk -v s="$1" 'index($0, s) { print $2; exit }')
    echo $((16#${hex:-0}))
}

flash() {
    local elf=$1 name=$2
    local vt text rodata data weights golden other total
    vt=$(section .vector_table "$elf")
    text=$(section .text "$elf")
    rodata=$(section .rodata "$elf")
    data=$(section .data "$elf")
    weights=$(symbol 'lenet_firmware::assets::WEIGHTS' "$elf")
    golden=$(symbol 'lenet_firmware::assets::GOLDEN' "$elf")
    other=$((rodata - weights - golden))
    total=$((vt + text + rodata + data))
    printf '%-28s code %7d B (.text %d + vectors %d) | weights %8d B | golden %6d B | other rodata %6d B | .data init %d B | total %8d B (%.2f MiB)\n' \
        "$name" $((text + vt)) "$text" "$vt" "$weights" "$golden" "$other" "$data" "$total" \
        "$(awk -v t="$total" 'BEGIN { print t / 1048576 }')"
}

static_ram() {
    local elf=$1
    echo $(($(section .data "$elf") + $(section .bss "$elf") + $(section .uninit "$elf")))
}

echo "== footprint (release: opt-level z, lenet-core at s, fat LTO)"
log=$(QEMU_TIMEOUT=${QEMU_TIMEOUT:-300} cargo run --release -q 2>/dev/null) || {
    echo "self-test failed:"
    echo "$log"
    exit 1
}
echo "QEMU mps2-an386 (Cortex-M4F), measured by the self-test (cd firmware && cargo run --release):"
grep -E 'instructions per inference|range over|static RAM|peak stack' <<<"$log" | sed -E 's/^[A-Z]+ +/  /'
echo "Flash:"
flash target/thumbv7em-none-eabihf/release/app "  app (QEMU)"
flash target/thumbv7em-none-eabihf/release/selftest "  selftest (QEMU)"
if [ -f "$board_dir/thumbv7em-none-eabihf/release/app" ]; then
    flash "$board_dir/thumbv7em-none-eabihf/release/app" "  app (NUCLEO-F429ZI)"
    flash "$board_dir/thumbv7em-none-eabihf/release/selftest" "  selftest (NUCLEO-F429ZI)"
    echo "  NUCLEO-F429ZI static RAM: $(static_ram "$board_dir/thumbv7em-none-eabihf/release/app") B of 192 KiB"
fi

for kind in int8 int4; do
summary=target/matrix/summary-$kind.tsv
if [ -f "$summary" ]; then
    echo "Per core, $kind blob (scripts/matrix.sh, QEMU -icount; code = vectors + .text of the selftest image):"
    printf '  %-28s %-11s %12s %12s %8s %8s %8s\n' target machine instructions "most" statics stack code
    while IFS=$'\t' read -r target machine first most statics stack code; do
        printf '  %-28s %-11s %12s %12s %8s %8s %8s\n' "$target" "$machine" "$first" "$most" "$statics" "$stack" "$code"
    done <"$summary"
elif [ "$kind" = int8 ]; then
    echo "Per core: run scripts/matrix.sh first"
fi
done
