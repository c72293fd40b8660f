#!/usr/bin/env bash
# Capacity at a latency cap (docs: shared/docs/BENCHMARKING.md): sweeps the offered load of
# `aleph local` upwards and reports the highest throughput whose p50 end-to-end latency stays
# under the cap (1 s on loopback, 3 s on an emulated WAN) with the client keeping its rate,
# the members agreeing and keeping up (throughput at least 95% of the offered load: a
# committee that falls behind would see its latency grow without bound in a longer run).
# The sweep stops after the first load that does not qualify.
#
#   bench/capacity.sh PATH_TO_aleph [--members N] [--wan FILE] [--rates "R ..."]
#                     [--duration S] [--cap-ms MS] [--tx-size B] [-- MORE aleph local ARGS]
#   bench/capacity.sh build/aleph                       # 4 members, loopback
#   bench/capacity.sh build/aleph --members 8 --wan tests/data/aws-8-regions-rtt-ms.tsv
set -u
aleph=${1:?usage: capacity.sh PATH_TO_aleph [options]}
shift
. "$(dirname "$0")/lib.sh"
members=4 wan="" rates="" duration=15 cap="" tx=512 extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --members) members=$2; shift 2 ;;
        --wan) wan=$2; shift 2 ;;
        --rates) rates=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --cap-ms) cap=$2; shift 2 ;;
        --tx-size) tx=$2; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "capacity.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
net_args=()
if [ -n "$wan" ]; then
    net_args=(--wan "$wan")
    cap=${cap:-3000}
    rates=${rates:-"5000 10000 20000 40000 60000 80000 100000 120000"}
    network="emulated WAN ($(basename "$wan"))"
else
    cap=${cap:-1000}
    rates=${rates:-"20000 40000 80000 120000 160000 200000 250000"}
    network=loopback
fi
bench_init capacity
best="" best_rate=""
for rate in $rates; do
    bench_run "n$members-r$rate" "$aleph" --members "$members" --rate "$rate" --duration "$duration" \
        --tx-size "$tx" "${net_args[@]}" "${extra[@]}"
    [ -n "$RUN_JSON" ] || { BENCH_ROWS+=("| $members | $network | failed |"); break; }
    p50=$(jsub "$RUN_JSON" latency_ms p50)
    tput=$(jnum "$RUN_JSON" throughput_tx_s)
    kept=$(jnum "$RUN_JSON" client_kept_rate)
    agree=$(jnum "$RUN_JSON" agreement)
    under=no
    if [ "$kept" = true ] && [ "$agree" = true ] && ge "$cap" "$p50" &&
        ge "$tput" "$(awk -v r="$rate" 'BEGIN { print 0.95 * r }')"; then
        under=yes
        if [ -z "$best" ] || ge "$tput" "$best"; then best=$tput best_rate=$rate; fi
    fi
    bench_row "$members" "$network" "$under"
    echo "capacity: $members members, $network, $rate tx/s offered: $tput tx/s, p50 $p50 ms (under the cap: $under)" >&2
    [ "$under" = yes ] || break
done
summary="Capacity at p50 <= $cap ms (throughput >= 95% of offered, client kept its rate): ${best:-none} tx/s (offered $best_rate tx/s); $tx-byte transactions, $duration s per load."
bench_finish "Capacity: $members members, $network, p50 cap $cap ms" "members | network | qualifies" "$summary"
