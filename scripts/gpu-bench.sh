#!/usr/bin/env bash
# Training on a GPU, measured: the default recipe on `--backend wgpu` (and `cuda` where it
# builds: burn's CUDA backend downloads an LLVM bundle at build time), then the same run on
# `flex` on the same machine for the side-by-side. Prints seconds per epoch, the float test accuracy
# and the int8 accuracy of the exported blob, one block per backend, and the GPU's name.
#
#   MNIST_DIR=... scripts/gpu-bench.sh [EPOCHS]     # default 20, the recipe's
#
# Writes under target/gpu-bench/. Not part of the tests: a full run takes minutes on a GPU
# and about half an hour on `flex` with two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-20}
out=target/gpu-bench
mkdir -p "$out"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
nproc; grep -m1 'model name' /proc/cpuinfo || true
date -u +%Y-%m-%dT%H:%MZ

backends=(wgpu)
if cargo build --release -p host --features cuda >"$out/cuda-build.log" 2>&1; then
    cp target/release/host "$out/host-cuda"
    backends+=(cuda)
else
    echo "cuda: does not build here (last lines of $out/cuda-build.log):"
    tail -n 3 "$out/cuda-build.log"
fi
cargo build --release -p host --features wgpu
cp target/release/host "$out/host-wgpu"

run() { # backend binary
    echo "==== --backend $1"
    "$2" train --backend "$1" --epochs "$epochs" --save-model "$out/$1.bpk" \
        --export "$out/$1.blob" 2>&1 | grep -v XDG_RUNTIME_DIR | tee "$out/$1.log" |
        grep -E "adapter|trained|per epoch|accuracy|agreement" || true
}
for b in "${backends[@]}"; do run "$b" "$out/host-$b"; done
run flex "$out/host-wgpu"
