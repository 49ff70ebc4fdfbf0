#!/usr/bin/env bash
# Installs what the draw-a-digit page's build check and browser test need; skips whatever is
# already present, so it is a no-op on a machine that has everything:
#   the wasm32-unknown-unknown standard library; Chromium and chromedriver (Debian's chromium,
#   chromium-driver) for the headless browser test; with --bindgen also the wasm-bindgen CLI of
#   exactly the version of the wasm-bindgen crate in Cargo.lock (the two must match), which only
#   regenerating web/www/pkg needs (web/build.sh; its --check works without it).
# scripts/test.sh runs it without --bindgen. `host demo` itself needs none of this: the built
# page is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
bindgen=false
case "${1:-}" in
    --bindgen) bindgen=true ;;
    "") ;;
    *) echo "usage: scripts/setup-web.sh [--bindgen]" >&2; exit 2 ;;
esac

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi

want=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if $bindgen && [ "$have" != "$want" ]; then
    echo "setup-web: installing wasm-bindgen-cli $want (found: ${have:-none})"
    if ! cargo install wasm-bindgen-cli --version "$want" --locked; then
        # The CLI's own lock file can name a dependency release that the registry no longer
        # serves (yanked); then resolve its dependencies afresh, the CLI's version still exact.
        echo "setup-web: retrying without --locked"
        cargo install wasm-bindgen-cli --version "$want"
    fi
fi

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
command -v chromedriver >/dev/null 2>&1 || packages+=(chromium-driver)
if [ ${#packages[@]} -gt 0 ]; then
    echo "setup-web: installing ${packages[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${packages[@]}" >/dev/null
fi

echo "setup-web: wasm32 target, $(chromium --version 2>/dev/null | head -n1)$($bindgen && echo ", wasm-bindgen $(wasm-bindgen --version | awk '{print $2}')")"
