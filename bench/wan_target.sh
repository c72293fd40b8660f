#!/usr/bin/env bash
# The issue's performance target: 8 members in the 8 emulated regions of
# tests/data/aws-8-regions-rtt-ms.tsv, 10,000 tx/s offered: p50 end-to-end latency at most
# 1 s. Runs it REPEATS times and reports every run and the median p50.
#
#   bench/wan_target.sh PATH_TO_aleph [--repeats K] [--duration S] [--rate R] [--members N]
#                       [-- MORE aleph local ARGS]
# KEEP_PLOTS=DIR keeps `aleph analyze` output (CSV, PNG) of every run under DIR/<label>/.
set -u
aleph=${1:?usage: wan_target.sh PATH_TO_aleph [options]}
shift
. "$(dirname "$0")/lib.sh"
repeats=3 duration=20 rate=10000 members=8 extra=()
matrix=$BENCH_REPO/tests/data/aws-8-regions-rtt-ms.tsv
while [ $# -gt 0 ]; do
    case $1 in
        --repeats) repeats=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --members) members=$2; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "wan_target.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
bench_init wan_target
p50s=()
for k in $(seq 1 "$repeats"); do
    bench_run "run$k" "$aleph" --members "$members" --rate "$rate" --duration "$duration" \
        --wan "$matrix" "${extra[@]}"
    [ -n "$RUN_JSON" ] || { BENCH_ROWS+=("| $k | failed |"); continue; }
    p50s+=("$(jsub "$RUN_JSON" latency_ms p50)")
    bench_row "$k" "$(jnum "$RUN_JSON" other_cpu_s)"
    echo "wan_target: run $k: $(jnum "$RUN_JSON" throughput_tx_s) tx/s, p50 ${p50s[-1]} ms" >&2
done
median=$(printf '%s\n' "${p50s[@]}" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
verdict="missed"
[ -n "$median" ] && ge 1000 "$median" && verdict="met"
bench_finish "Target: $members members in 8 emulated regions, $rate tx/s offered, $duration s per run" \
    "run | other processes' CPU s" \
    "Median p50 end-to-end latency over $repeats runs: ${median:-none} ms (target: at most 1000 ms: $verdict)."
