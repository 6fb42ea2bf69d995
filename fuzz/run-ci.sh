#!/usr/bin/env bash
# CI: build every fuzz target and run each one briefly on its committed corpus, so the
# targets keep compiling and a regression on a known input fails the build. Any crash,
# failed property or timeout stops the script with a non-zero exit.
#
#   FUZZ_SECONDS   seconds per target (default 35: with the build, about 10 minutes on
#                  an idle 2-core runner)
#   FUZZ_TIMEOUT   seconds one input may take before it counts as a hang (default 10)
#
# Stable rustc accepts the sanitizer flags cargo-fuzz passes with RUSTC_BOOTSTRAP=1, so
# no nightly toolchain is needed.
set -euo pipefail
cd "$(dirname "$0")"

CARGO_FUZZ_VERSION=0.13.2
SECONDS_PER_TARGET=${FUZZ_SECONDS:-35}
TIMEOUT=${FUZZ_TIMEOUT:-10}
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

# cargo-fuzz has no `--locked`: fail here if fuzz/Cargo.lock is not up to date.
cargo tree --locked --prefix none >/dev/null
cargo fuzz build

for target in $(cargo fuzz list); do
    corpus="corpus/$target"
    mkdir -p "$corpus"
    echo "== fuzz $target (${SECONDS_PER_TARGET}s, $(ls "$corpus" | wc -l) corpus inputs)"
    # The committed corpus is read, never written: new inputs go to a scratch directory.
    scratch=$(mktemp -d)
    status=0
    cargo fuzz run "$target" "$scratch" "$corpus" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout="$TIMEOUT" -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 >"$scratch.log" 2>&1 || status=$?
    tail -n 40 "$scratch.log"
    rm -rf "$scratch" "$scratch.log"
    if [ "$status" -ne 0 ]; then
        echo "fuzz target $target failed (exit $status); the input is under fuzz/artifacts/$target/" >&2
        exit "$status"
    fi
done
