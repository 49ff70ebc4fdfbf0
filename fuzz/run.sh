#!/usr/bin/env bash
# Runs every fuzz target for 10 million executions or 30 minutes, whichever comes first, starting
# from the committed seeds; findings land in fuzz/artifacts/<target>/. Needs the nightly toolchain
# and cargo-fuzz (`cargo install cargo-fuzz`).
#   fuzz/run.sh [target...]        (default: all four; MAX_TIME and RUNS override the limits)
set -euo pipefail
cd "$(dirname "$0")"
runs=${RUNS:-10000000}
max_time=${MAX_TIME:-1800}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(frame idx image blob)
for t in "${targets[@]}"; do
    case $t in
        image) malloc=320 ;;  # decoder limit is 256 MiB; anything larger is a finding
        blob) malloc=64 ;;
        *) malloc=16 ;;       # headers must never drive an allocation
    esac
    mkdir -p "corpus/$t"
    echo "==== $t: up to $runs runs or $max_time s, malloc limit $malloc MiB"
    cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
        -runs="$runs" -max_total_time="$max_time" -malloc_limit_mb="$malloc" \
        -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
done
