#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30) from its seed corpus, and fails on the
# first crash (its input is saved in fuzz/artifacts/<target>/). CI runs it with the default;
# fuzz/README.md gives the longer command.
#
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
shift || true

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "!!!!! fuzz: no nightly toolchain on this machine: the fuzz targets were NOT run !!!!!" >&2
    exit 0
fi
# Installed once per machine (about a minute).
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz

# Release, with overflow checks and debug assertions; no sanitizer: the code fuzzed is safe Rust.
flags=(--debug-assertions --sanitizer none)
cargo +nightly fuzz build "${flags[@]}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
for target in "${targets[@]}"; do
    # What a run finds goes to a scratch corpus first, so the committed seeds stay small.
    found="target/found/$target"
    mkdir -p "$found"
    echo "fuzz: $target for ${seconds}s"
    cargo +nightly fuzz run "${flags[@]}" "$target" "$found" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>&1 |
        grep -v '^#[0-9]' || { echo "fuzz: $target failed (see above; input in fuzz/artifacts/$target/)" >&2; exit 1; }
done
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a crash"
