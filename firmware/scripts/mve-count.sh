#!/usr/bin/env bash
# Usage: mve-count.sh
#
# How many of the Cortex-M55 image's instructions per inference are Helium (MVE) instructions,
# and the count weighted by beats: QEMU counts every instruction as one, while the Cortex-M55
# (a dual-beat implementation) takes two cycles for a 128-bit MVE instruction unless it overlaps
# with its neighbour. Runs the per-layer binary (`--bin layers`: one golden image, each layer
# timed) on QEMU mps3-an547 with QEMU's translation and execution log (`-d in_asm,exec,nochain`:
# every executed block and the addresses of its instructions), then sums, per instruction of the
# lenet_core::kernels::mve functions (where every MVE instruction of the inference lives), how
# often it ran, by mnemonic (from llvm-objdump --mcpu=cortex-m55). FP register saves
# (`vpush`/`vpop`) are not counted as MVE. The log is large (about 500 MB, in a temporary
# directory that is removed).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
unset RUSTC_WORKSPACE_WRAPPER
args=(--release -q --bin layers --target thumbv8m.main-none-eabihf --features mps3-an547
    --target-dir target/mps3-an547 --config mve.toml)
cargo build "${args[@]}"
elf=target/mps3-an547/thumbv8m.main-none-eabihf/release/layers
tools="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timeout "${QEMU_TIMEOUT:-300}" qemu-system-arm -machine mps3-an547 -display none -monitor none \
    -serial null -semihosting-config enable=on,target=native -icount shift=0,align=off,sleep=off \
    -d in_asm,exec,nochain -D "$work/exec.log" -kernel "$elf" | defmt-print -e "$elf" | grep -E 'conv|fc|sum'
"$tools/llvm-objdump" -d --no-show-raw-insn --mcpu=cortex-m55 "$elf" >"$work/dis.txt"
# Addresses as hex strings without leading zeros (POSIX awk has no hex arithmetic).
awk '
    function norm(h) { sub(/^0x/, "", h); sub(/:$/, "", h); sub(/^0+/, "", h); return h }
    FNR == NR {
        if ($0 ~ /^[0-9a-f]+ <.*>:$/) { f = ($0 ~ /kernels3mve/); next }
        if (f && $0 ~ /^ +[0-9a-f]+:/) mn[norm($1)] = $2
        next
    }
    /^IN:/ { n = 0; intb = 1; next }
    intb && /^0x[0-9a-f]+:/ { a = norm($1); if (n == 0) cur = a; ins[cur, n++] = a; len[cur] = n; next }
    /^Trace/ { intb = 0; split($0, p, "/"); runs[norm(p[2])]++ }
    END {
        for (pc in runs) for (i = 0; i < len[pc]; i++) {
            a = ins[pc, i]
            if (a in mn) {
                all += runs[pc]
                if (mn[a] ~ /^v/ && mn[a] !~ /^v(push|pop)/) vec += runs[pc]
            }
        }
        printf "instructions in the MVE kernels: %d, of which MVE instructions: %d\n", all, vec
    }
' "$work/dis.txt" "$work/exec.log"
