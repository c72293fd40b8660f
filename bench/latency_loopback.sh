#!/usr/bin/env bash
# Latency on loopback at a fixed offered load, for several committee sizes: every run and, per
# size, the median p50 and p99 over the repeats (the machine is shared: the table gives the
# other processes' CPU during each run).
#
#   bench/latency_loopback.sh PATH_TO_aleph [--sizes "4 7 10"] [--rate R] [--repeats K]
#                             [--duration S] [--tx-size B] [-- MORE aleph local ARGS]
# e.g. the pacing before the load-following change: ... -- --round-delay-ms 10
set -u
aleph=${1:?usage: latency_loopback.sh PATH_TO_aleph [options]}
shift
. "$(dirname "$0")/lib.sh"
sizes="4 7 10" rate=10000 repeats=3 duration=10 txsize=512 extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --sizes) sizes=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --repeats) repeats=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --tx-size) txsize=$2; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "latency_loopback.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
bench_init latency_loopback
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
summary=""
for n in $sizes; do
    p50s=() p99s=()
    for k in $(seq 1 "$repeats"); do
        bench_run "n$n-run$k" "$aleph" --members "$n" --rate "$rate" --duration "$duration" \
            --tx-size "$txsize" "${extra[@]}"
        [ -n "$RUN_JSON" ] || { BENCH_ROWS+=("| $n | $k | failed |"); continue; }
        p50s+=("$(jsub "$RUN_JSON" latency_ms p50)")
        p99s+=("$(jsub "$RUN_JSON" latency_ms p99)")
        bench_row "$n" "$k"
        echo "latency_loopback: N=$n run $k: p50 ${p50s[-1]} ms, p99 ${p99s[-1]} ms, other CPU $(jnum "$RUN_JSON" other_cpu_s) s" >&2
    done
    summary+="N=$n: median p50 $(printf '%s\n' "${p50s[@]}" | median) ms, median p99 $(printf '%s\n' "${p99s[@]}" | median) ms. "
done
bench_finish "Loopback, $rate tx/s offered, $txsize B, $duration s per run, $repeats runs per size${extra:+, extra: ${extra[*]}}" \
    "N | run" "$summary"
