#!/usr/bin/env bash
# Long fuzzing runs on a shared machine: one target at a time, at the lowest priority,
# rotating through `target:seconds` pairs (default: every target, 10 minutes each), and
# appending each run's time and speed to fuzz/target/rotate.log. New inputs go to
# fuzz/corpus/<target>/; run `cargo fuzz cmin` on them before committing.
#
#   fuzz/rotate.sh engine:900 k8s_manifest:900 reports:300
set -uo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
log=target/rotate.log
mkdir -p target

pairs=("$@")
if [ ${#pairs[@]} -eq 0 ]; then
    for t in $(cargo fuzz list); do pairs+=("$t:600"); done
fi
for pair in "${pairs[@]}"; do
    target=${pair%%:*}
    seconds=${pair##*:}
    mkdir -p "corpus/$target"
    seeds=()
    [ -d "seeds/$target" ] && seeds=("seeds/$target")
    out=target/rotate-$target.out
    start=$(date +%s)
    nice -n 19 cargo fuzz run "$target" "corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 >"$out" 2>&1
    status=$?
    # libFuzzer's own count leaves out the build; after a crash there is none.
    ran=$(grep -o 'Done [0-9]* runs in [0-9]*' "$out" | grep -o '[0-9]*$')
    ran=${ran:-$(( $(date +%s) - start ))}
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out" | grep -o '[0-9]*$')
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$out" | grep -o '[0-9]*$')
    echo "$(date -u +%FT%TZ) $target seconds=$ran execs=${execs:-?} exec/s=${speed:-?} exit=$status" >>"$log"
done
