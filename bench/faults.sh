#!/usr/bin/env bash
# Fault runs: for each committee size N, one run with every member honest and one with
# f = (N-1)/3 members killed (SIGKILL) at half time. The survivors must agree and keep
# ordering; the table shows throughput and latency over the whole steady window (before
# and after the kill) and the rounds ordered after it.
#
#   bench/faults.sh PATH_TO_aleph [--sizes "4 7 10"] [--rate R] [--duration S] [--wan FILE]
set -u
aleph=${1:?usage: faults.sh PATH_TO_aleph [options]}
shift
. "$(dirname "$0")/lib.sh"
sizes="4 7 10" rate=2000 duration=16 wan=""
bench_sweep_args faults.sh "$@"
bench_init faults
for n in $sizes; do
    for f in 0 $(( (n - 1) / 3 )); do
        bench_run "n$n-f$f" "$aleph" --members "$n" --faulty "$f" --rate "$rate" --duration "$duration" \
            "${net_args[@]}" "${extra[@]}"
        [ -n "$RUN_JSON" ] || { BENCH_ROWS+=("| $n | $f | $network | failed |"); continue; }
        after=$(jnum "$RUN_JSON" rounds_after_kill)
        bench_row "$n" "$f" "$network" "${after:--}"
        echo "faults: N=$n f=$f: $(jnum "$RUN_JSON" throughput_tx_s) tx/s, p50 $(jsub "$RUN_JSON" latency_ms p50) ms, agreement $(jnum "$RUN_JSON" agreement)" >&2
    done
done
bench_finish "Faults: f members killed at half time, $rate tx/s offered, $network, $duration s" \
    "members | killed | network | rounds after kill" \
    "The killed members are the last f; the load client stops sending to them when they die, so the offered rate goes to the survivors."
