#!/usr/bin/env bash
# Builds the draw-a-digit page's WebAssembly module into web/www/pkg/ (committed, so that
# `host demo` serves the page on a fresh clone without a wasm toolchain):
#   cargo build -p lenet-web --target wasm32-unknown-unknown --profile web
#   wasm-bindgen --target web   (the CLI of exactly the wasm-bindgen version in Cargo.lock)
# scripts/setup-web.sh installs both. There is no wasm-opt pass: Debian 12's binaryen (108)
# breaks the externref table that this wasm-bindgen emits, and the module is small without it. Registry paths are remapped so that the output does
# not depend on where cargo keeps its sources: the same toolchain gives the same bytes.
#
# web/build.sh --check builds into a temporary directory instead and fails when the committed
# files differ (scripts/test.sh runs it): regenerate with web/build.sh after changing lenet-core,
# lenet-preprocess or web/src.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
check=false
case "${1:-}" in
    --check) check=true ;;
    "") ;;
    *) echo "usage: web/build.sh [--check]" >&2; exit 2 ;;
esac

need() {
    command -v "$1" >/dev/null || { echo "web/build.sh: $1 not found; run scripts/setup-web.sh" >&2; exit 1; }
}
need wasm-bindgen
want=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
have=$(wasm-bindgen --version | awk '{print $2}')
if [ "$want" != "$have" ]; then
    echo "web/build.sh: wasm-bindgen CLI $have, but Cargo.lock has wasm-bindgen $want; run scripts/setup-web.sh" >&2
    exit 1
fi

cargo_home=${CARGO_HOME:-$HOME/.cargo}
# SIMD128 lets LLVM vectorize lenet-core's portable kernels (integer lanes: the same bits); every
# current browser runs it (Chrome 91, Firefox 89, Safari 16.4 and later).
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo -C target-feature=+simd128"
cargo build --locked -p lenet-web --target wasm32-unknown-unknown --profile web
wasm="${CARGO_TARGET_DIR:-$repo/target}/wasm32-unknown-unknown/web/lenet_web.wasm"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
wasm-bindgen "$wasm" --out-dir "$out" --target web --no-typescript \
    --remove-name-section --remove-producers-section

pkg=web/www/pkg
if $check; then
    if diff -r "$out" "$pkg" >/dev/null; then
        echo "web/www/pkg is up to date ($(wc -c <"$pkg/lenet_web_bg.wasm") bytes of wasm)"
    else
        diff -rq "$out" "$pkg" >&2 || true
        echo "web/www/pkg is stale: run web/build.sh and commit web/www/pkg" >&2
        exit 1
    fi
else
    rm -rf "$pkg"
    mkdir -p "$pkg"
    cp "$out"/* "$pkg"/
    echo "wrote $pkg: $(wc -c <"$pkg/lenet_web_bg.wasm") bytes of wasm, $(wc -c <"$pkg/lenet_web.js") of JavaScript"
fi
