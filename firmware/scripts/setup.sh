#!/usr/bin/env bash
# Installs what the firmware checks need; skips whatever is already present, so it is a no-op on
# a machine that has everything:
#   qemu-system-arm (the MPS2/MPS3 machines) and qemu-system-misc (riscv32 virt), both QEMU 7.2
#   from Debian 12; defmt-print 1.2.0 (log decoder in the runner); the standard libraries of
#   every firmware target; llvm-tools (llvm-size, llvm-nm, llvm-objdump).
set -euo pipefail

DEFMT_PRINT_VERSION=1.2.0
TARGETS=(thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf
    riscv32imc-unknown-none-elf)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v qemu-system-arm >/dev/null 2>&1 || ! command -v qemu-system-riscv32 >/dev/null 2>&1; then
    echo "setup: installing qemu-system-arm and qemu-system-misc"
    as_root apt-get update -qq
    apt_install() { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
    if ! apt_install qemu-system-arm qemu-system-misc; then
        # Some images carry a newer qemu-utils (a backport) that Debian's QEMU 7.2 system
        # emulators refuse to sit beside: install the qemu-utils of the same release with them.
        version=$(apt-cache policy qemu-system-arm | sed -n 's/^ *Candidate: //p')
        echo "setup: retrying with qemu-utils=$version beside qemu-system-* $version"
        apt_install --allow-downgrades qemu-system-arm qemu-system-misc "qemu-utils=$version"
    fi
fi

if ! defmt-print --version 2>/dev/null | grep -q "$DEFMT_PRINT_VERSION"; then
    echo "setup: installing defmt-print $DEFMT_PRINT_VERSION"
    cargo install defmt-print --version "$DEFMT_PRINT_VERSION" --locked
fi

installed_targets=$(rustup target list --installed)
for target in "${TARGETS[@]}"; do
    if ! grep -qx "$target" <<<"$installed_targets"; then
        rustup target add "$target"
    fi
done

if ! rustup component list --installed | grep -q '^llvm-tools'; then
    rustup component add llvm-tools
fi

echo "setup: qemu $(qemu-system-arm --version | head -n1 | awk '{print $4}') (arm), $(qemu-system-riscv32 --version | head -n1 | awk '{print $4}') (riscv32), $(defmt-print --version | head -n1)"
