#!/usr/bin/env bash
# Builds the draw-a-digit page's WebAssembly module into web/www/pkg/ (committed, so that
# `host demo` serves the page on a fresh clone without a wasm toolchain):
#   cargo build -p lenet-web --target wasm32-unknown-unknown --profile web
#   wasm-bindgen --target web   (the CLI of exactly the wasm-bindgen version in Cargo.lock)
# and records in web/pkg.sha256 the SHA-256 of the module cargo built (before wasm-bindgen) and
# of each file written. `scripts/setup-web.sh --bindgen` installs the CLI. There is no wasm-opt
# pass: Debian 12's binaryen (108) breaks the externref table that this wasm-bindgen emits, and
# the module is small without it. Registry paths are remapped so that the output does not depend
# on where cargo keeps its sources: the same toolchain gives the same bytes.
#
# web/build.sh --check fails when the committed files are not what the sources build
# (scripts/test.sh runs it): regenerate with web/build.sh after changing lenet-core,
# lenet-preprocess or web/src. With the wasm-bindgen CLI it compares a complete fresh build
# with web/www/pkg; without it (CI does not install it) it compares the module cargo builds
# with the one recorded in web/pkg.sha256, and web/www/pkg with the recorded files. wasm-bindgen
# is deterministic, so both say the same.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
check=false
case "${1:-}" in
    --check) check=true ;;
    "") ;;
    *) echo "usage: web/build.sh [--check]" >&2; exit 2 ;;
esac
# The committed module comes from the plain compiler (CI may set clippy-driver as the wrapper).
unset RUSTC_WORKSPACE_WRAPPER

want=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if ! $check && [ "$have" != "$want" ]; then
    echo "web/build.sh: needs the wasm-bindgen CLI $want (Cargo.lock's wasm-bindgen), found ${have:-none}; run scripts/setup-web.sh --bindgen" >&2
    exit 1
fi

cargo_home=${CARGO_HOME:-$HOME/.cargo}
# SIMD128 lets LLVM vectorize lenet-core's portable kernels (integer lanes: the same bits); every
# current browser runs it (Chrome 91, Firefox 89, Safari 16.4 and later).
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo -C target-feature=+simd128"
cargo build --locked -p lenet-web --target wasm32-unknown-unknown --profile web
wasm="${CARGO_TARGET_DIR:-$repo/target}/wasm32-unknown-unknown/web/lenet_web.wasm"
module_sum=$(sha256sum "$wasm" | cut -d' ' -f1)

pkg=web/www/pkg
manifest=web/pkg.sha256
# Both --check modes: the manifest records the module cargo builds now, and exactly the files of
# web/www/pkg with their current hashes.
check_manifest() {
    local recorded listed present
    recorded=$(awk '$2 == "cargo:lenet_web.wasm" { print $1 }' "$manifest")
    if [ "$module_sum" != "$recorded" ]; then
        echo "web/www/pkg is stale: cargo builds a module with SHA-256 $module_sum, $manifest records ${recorded:-none}; run web/build.sh (scripts/setup-web.sh --bindgen) and commit web/" >&2
        exit 1
    fi
    (cd web && grep -v ' cargo:' pkg.sha256 | sha256sum --quiet -c -) || {
        echo "web/www/pkg differs from the files $manifest records: run web/build.sh and commit web/" >&2
        exit 1
    }
    listed=$(grep -v ' cargo:' "$manifest" | awk '{print $2}' | sort)
    present=$(cd web && find www/pkg -type f | sort)
    if [ "$listed" != "$present" ]; then
        echo "web/www/pkg holds other files than $manifest lists: run web/build.sh and commit web/" >&2
        exit 1
    fi
}
if $check && [ "$have" != "$want" ]; then
    check_manifest
    echo "web/www/pkg is up to date: the module cargo builds is the one it was made from (no wasm-bindgen CLI here: hashes compared, $(wc -c <"$pkg/lenet_web_bg.wasm") bytes of wasm)"
    exit 0
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
wasm-bindgen "$wasm" --out-dir "$out" --target web --no-typescript \
    --remove-name-section --remove-producers-section

if $check; then
    if ! diff -r "$out" "$pkg" >/dev/null; then
        diff -rq "$out" "$pkg" >&2 || true
        echo "web/www/pkg is stale: run web/build.sh and commit web/" >&2
        exit 1
    fi
    check_manifest
    echo "web/www/pkg is up to date ($(wc -c <"$pkg/lenet_web_bg.wasm") bytes of wasm)"
else
    rm -rf "$pkg"
    mkdir -p "$pkg"
    cp "$out"/* "$pkg"/
    {
        echo "$module_sum  cargo:lenet_web.wasm"
        (cd web && find www/pkg -type f | sort | xargs sha256sum)
    } >"$manifest"
    echo "wrote $pkg: $(wc -c <"$pkg/lenet_web_bg.wasm") bytes of wasm, $(wc -c <"$pkg/lenet_web.js") of JavaScript; $manifest"
fi
