#!/usr/bin/env bash
# Proves the int8 inference path uses no floating point:
#
# 1. Builds nofloat-check (parse a blob + int8 predict, nothing else) for thumbv6m-none-eabi,
#    a core without FPU, where every float operation links a soft-float routine, and fails if
#    the binary contains one (__aeabi_f*, __aeabi_d*, __addsf3, __floatsisf, ...).
#    A canary build with one f32 forward pass must trip the same check, proving it can fail.
# 2. Disassembles the thumbv7em-none-eabihf serial app (whose log line computes a softmax in
#    f32, so the image does hold FPU code) and fails if `lenet_firmware::classify`
#    (the int8 forward pass) or any function it reaches through direct calls and branches
#    contains an FPU instruction (every VFP mnemonic starts with `v`).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
tools="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"
nm="$tools/llvm-nm"
objdump="$tools/llvm-objdump"
[ -x "$nm" ] || nm=$(command -v llvm-nm || command -v arm-none-eabi-nm)
[ -x "$objdump" ] || objdump=$(command -v llvm-objdump)

soft_float='(^|_)(__aeabi_([fd]|u?i2[fd]|u?l2[fd])[a-z0-9]*|__(add|sub|mul|div|neg|eq|ne|lt|le|gt|ge|unord|cmp)[sdt]f[23]|__float(un)?[sdt]i[sdt]f|__fix(uns)?[sdt]f[sdt]i|__extend[sdh]f[sdt]f2|__trunc[sdt]f[sdh]f2|__powi[sdt]f2)$'

soft_float_symbols() {
    "$nm" -j "$1" 2>/dev/null | sort -u | grep -E "$soft_float" || true
}

status=0
echo "== thumbv6m-none-eabi (no FPU): soft-float routines linked into the int8 consumer"
cargo build --release -p nofloat-check --target thumbv6m-none-eabi -q
elf=target/thumbv6m-none-eabi/release/nofloat-check
found=$(soft_float_symbols "$elf")
if [ -n "$found" ]; then
    echo "FAIL: the int8 path links soft-float routines:"
    echo "$found" | sed 's/^/  /'
    status=1
else
    echo "ok: no soft-float symbol in $elf ($("$nm" -j "$elf" | wc -l) symbols)"
fi

cargo build --release -p nofloat-check --target thumbv6m-none-eabi --features float-canary \
    --target-dir target/float-canary -q
canary=$(soft_float_symbols target/float-canary/thumbv6m-none-eabi/release/nofloat-check)
if [ -z "$canary" ]; then
    echo "FAIL: the canary build with an f32 forward pass shows no soft-float symbol; the check is blind"
    status=1
else
    echo "ok: the canary (f32 forward pass) is caught: $(echo "$canary" | tr '\n' ' ')"
fi

echo "== thumbv7em-none-eabihf: FPU instructions reachable from lenet_firmware::classify"
cargo build --release --bin app -q
elf=target/thumbv7em-none-eabihf/release/app
dis=$(mktemp)
trap 'rm -f "$dis"' EXIT
"$objdump" -d --no-show-raw-insn "$elf" >"$dis"

# One pass over the disassembly: "CALL caller callee" for every direct branch to another
# function, "FPU function instruction" for every VFP instruction.
facts=$(awk '
    /^[0-9a-f]+ <.*>:$/ { cur = $0; sub(/^[0-9a-f]+ </, "", cur); sub(/>:$/, "", cur); next }
    cur != "" && /^ *[0-9a-f]+:/ {
        n = split($0, f, "\t")
        if (n < 2) next
        op = f[2]
        if (op ~ /^v/) { print "FPU", cur, op "\t" f[3] }
        if (op ~ /^(b|bl|blx|b\.w)(eq|ne|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|cs|cc)?(\.w)?$/ && match($0, /<[^>]*>/)) {
            t = substr($0, RSTART + 1, RLENGTH - 2); sub(/\+0x[0-9a-f]+$/, "", t)
            if (t != cur) print "CALL", cur, t
        }
    }' "$dis")

root=$(grep -oE '^[0-9a-f]+ <[^>]*14lenet_firmware8classify[^>]*>:$' "$dis" | sed -E 's/^[0-9a-f]+ <(.*)>:$/\1/' | head -n1)
if [ -z "$root" ]; then
    echo "FAIL: lenet_firmware::classify not found in $elf"
    exit 1
fi
declare -A seen=(["$root"]=1)
queue=("$root")
while [ ${#queue[@]} -gt 0 ]; do
    f=${queue[0]}
    queue=("${queue[@]:1}")
    while read -r callee; do
        [ -n "$callee" ] || continue
        if [ -z "${seen[$callee]:-}" ]; then
            seen[$callee]=1
            queue+=("$callee")
        fi
    done < <(awk -v f="$f" '$1 == "CALL" && $2 == f { print $3 }' <<<"$facts")
done
fpu=$(awk 'NR == FNR { reach[$0] = 1; next } $1 == "FPU" && ($2 in reach)' \
    <(printf '%s\n' "${!seen[@]}") <(echo "$facts"))
if [ -n "$fpu" ]; then
    echo "FAIL: FPU instructions reachable from classify:"
    echo "$fpu" | head -n 20 | sed 's/^/  /'
    status=1
else
    echo "ok: ${#seen[@]} functions reachable from classify, no FPU instruction"
    all=$(grep -c '^FPU' <<<"$facts" || true)
    echo "    (the whole image has $all FPU instructions, all outside the inference path)"
fi
exit "$status"
