#!/usr/bin/env bash
# Installs what the tests need and skips whatever is already present, so it is a no-op on a
# machine that has everything (scripts/test.sh runs it first):
#   - Mesa's Vulkan drivers (lavapipe, a software Vulkan device) for the wgpu training test;
#   - what the firmware checks need: firmware/scripts/setup.sh.
#   - what the draw-a-digit page's checks need (wasm32 target, headless Chromium):
#     scripts/setup-web.sh (its --bindgen, for regenerating the page's module, is not needed).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
apt_install() {
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1; then
    echo "setup: installing mesa-vulkan-drivers (lavapipe)"
    apt_install mesa-vulkan-drivers
fi

"$repo/firmware/scripts/setup.sh"
"$repo/scripts/setup-web.sh"
