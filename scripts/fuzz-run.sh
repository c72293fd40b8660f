#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time: scripts/fuzz-run.sh BUILD_DIR SECONDS TARGET...
# Seeds come from fuzz/corpus/<target> when it exists (a dictionary from fuzz/<target>.dict);
# new inputs go to BUILD_DIR/corpus.
# Prints executions and coverage per target; exits non-zero on any crash, leak or sanitizer
# report (libFuzzer's own exit status), keeping the reproducer in BUILD_DIR/crashes.
set -euo pipefail
build=$1; seconds=$2; shift 2
mkdir -p "$build/crashes"
status=0
for target in "$@"; do
    corpus="$build/corpus/$target"
    mkdir -p "$corpus"
    seeds=() dict=()
    [ -d "fuzz/corpus/$target" ] && seeds=("fuzz/corpus/$target")
    [ -f "fuzz/$target.dict" ] && dict=(-dict="fuzz/$target.dict")
    log="$build/$target.log"
    if "$build/fuzz/$target" -max_total_time="$seconds" -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$build/crashes/$target-" "$corpus" "${seeds[@]}" >"$log" 2>&1; then
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
        echo "fuzz $target: ok, ${execs:-?} executions, ${cov:-?} edges in ${seconds} s"
    else
        echo "fuzz $target: FAILED (see $log and $build/crashes)"
        tail -40 "$log"
        status=1
    fi
done
exit $status
