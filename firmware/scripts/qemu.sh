#!/usr/bin/env bash
# Usage: qemu.sh ELF
#
# Starts the QEMU machine the ELF names in its `qemu-machine=<machine>` marker (QEMU_MACHINE
# overrides it, e.g. mps2-an500 for the thumbv7em image), with exact instruction counting
# (-icount shift=0: 1 ns of guest time per instruction) and semihosting; the firmware's
# semihosting output (the raw defmt stream) goes to stdout and its exit code becomes QEMU's.
# No -cpu or -machine flag differs between two runs of one row, so counts are reproducible.
#
# Environment: QEMU_MACHINE, QEMU_SERIAL (UART backend, default "-serial null"), QEMU_EXTRA
# (more flags), QEMU_TIMEOUT (seconds, default 300; a hang exits 124).
set -euo pipefail

elf=${1:?usage: qemu.sh ELF}
machine=${QEMU_MACHINE:-$(grep -aoE -m1 'qemu-machine=[A-Za-z0-9_-]+' "$elf" | head -n1 | cut -d= -f2 || true)}
case "$machine" in
    mps2-an385) qemu=(qemu-system-arm -machine mps2-an385 -cpu cortex-m3) ;;
    mps2-an386) qemu=(qemu-system-arm -machine mps2-an386 -cpu cortex-m4) ;;
    mps2-an500) qemu=(qemu-system-arm -machine mps2-an500 -cpu cortex-m7) ;;
    mps2-an505) qemu=(qemu-system-arm -machine mps2-an505) ;;
    mps3-an547) qemu=(qemu-system-arm -machine mps3-an547) ;;
    virt) qemu=(qemu-system-riscv32 -machine virt -bios none) ;;
    '')
        echo "qemu.sh: $elf has no qemu-machine marker (a real-board build?) and QEMU_MACHINE is not set" >&2
        exit 2
        ;;
    *)
        echo "qemu.sh: unknown machine '$machine'" >&2
        exit 2
        ;;
esac
# shellcheck disable=SC2086 # QEMU_SERIAL and QEMU_EXTRA are lists of flags
exec timeout "${QEMU_TIMEOUT:-300}" "${qemu[@]}" -display none -monitor none \
    ${QEMU_SERIAL:--serial null} -semihosting-config enable=on,target=native \
    -icount shift=0,align=off,sleep=off ${QEMU_EXTRA:-} -kernel "$elf"
