#!/usr/bin/env bash
# Installs what the firmware checks need; skips whatever is already present.
#   qemu-system-arm (mps2-an386 emulation), defmt-print 1.2.0 (log decoder in the runner),
#   the thumbv7em/thumbv6m standard libraries and llvm-tools (llvm-size, llvm-nm, llvm-objdump).
set -euo pipefail

DEFMT_PRINT_VERSION=1.2.0

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v qemu-system-arm >/dev/null 2>&1; then
    echo "setup: installing qemu-system-arm"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm >/dev/null
fi

if ! defmt-print --version 2>/dev/null | grep -q "$DEFMT_PRINT_VERSION"; then
    echo "setup: installing defmt-print $DEFMT_PRINT_VERSION"
    cargo install defmt-print --version "$DEFMT_PRINT_VERSION" --locked
fi

installed_targets=$(rustup target list --installed)
for target in thumbv7em-none-eabihf thumbv6m-none-eabi; do
    if ! grep -qx "$target" <<<"$installed_targets"; then
        rustup target add "$target"
    fi
done

if ! rustup component list --installed | grep -q '^llvm-tools'; then
    rustup component add llvm-tools
fi

echo "setup: qemu $(qemu-system-arm --version | head -n1 | awk '{print $4}'), $(defmt-print --version | head -n1)"
