#!/usr/bin/env bash
# The seed's experiment in miniature. The AlephZero proof of concept measured 128 nodes in 8
# AWS regions under three loads, given as transactions per unit: small (1), big (100) and
# large (1,000): 72.1 tx/s at 5.1 s, 9,476.7 tx/s at 15.8 s, 93,419 tx/s at 20.5 s.
# Here: 8 and 16 members spread over the same 8 regions, emulated (one-way delay RTT/2 of
# tests/data/aws-8-regions-rtt-ms.tsv, in user space), small dummy transactions. The
# offered rate for L transactions per unit is L x members x rounds per second, with rounds
# per second measured in a calibration run at about one transaction per unit.
#
#   bench/seed_experiment.sh PATH_TO_aleph [--sizes "8 16"] [--loads "1 100 1000"]
#                            [--duration S] [--tx-size B] [--matrix FILE]
set -u
aleph=${1:?usage: seed_experiment.sh PATH_TO_aleph [options]}
shift
. "$(dirname "$0")/lib.sh"
sizes="8 16" loads="1 100 1000" duration=20 tx=32
matrix=$BENCH_REPO/tests/data/aws-8-regions-rtt-ms.tsv
while [ $# -gt 0 ]; do
    case $1 in
        --sizes) sizes=$2; shift 2 ;;
        --loads) loads=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --tx-size) tx=$2; shift 2 ;;
        --matrix) matrix=$2; shift 2 ;;
        *) echo "seed_experiment.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
bench_init seed_experiment
seed_name() { case $1 in 1) echo small ;; 100) echo big ;; 1000) echo large ;; *) echo "-" ;; esac; }
seed_txps() { case $1 in 1) echo 72.1 ;; 100) echo 9476.7 ;; 1000) echo 93419.0 ;; *) echo "-" ;; esac; }
seed_lat() { case $1 in 1) echo 5.1 ;; 100) echo 15.8 ;; 1000) echo 20.5 ;; *) echo "-" ;; esac; }
for n in $sizes; do
    # Calibration: rounds per second at about one transaction per unit (two passes: guess
    # 10 rounds/s, then the measured pace).
    rps=10
    for pass in 1 2; do
        rate=$(awk -v n="$n" -v r="$rps" 'BEGIN { printf "%.0f", n * r }')
        bench_run "n$n-calibration$pass" "$aleph" --members "$n" --rate "$rate" --duration 10 \
            --tx-size "$tx" --wan "$matrix"
        got=$(jnum "$RUN_JSON" rounds_per_s)
        [ -n "$got" ] && ge "$got" 0.5 && rps=$got
    done
    echo "seed_experiment: N=$n: $rps rounds/s in calibration" >&2
    for load in $loads; do
        rate=$(awk -v l="$load" -v n="$n" -v r="$rps" 'BEGIN { printf "%.0f", l * n * r }')
        bench_run "n$n-load$load" "$aleph" --members "$n" --rate "$rate" --duration "$duration" \
            --tx-size "$tx" --wan "$matrix"
        if [ -z "$RUN_JSON" ]; then
            BENCH_ROWS+=("| $n | $load ($(seed_name "$load")) | $rate | failed | | | | | | | | | | | 128 nodes: $(seed_txps "$load") tx/s @ $(seed_lat "$load") s |")
            continue
        fi
        bench_row "$n" "$load ($(seed_name "$load"))" "$rps"
        BENCH_ROWS[-1]="${BENCH_ROWS[-1]} $(seed_txps "$load") tx/s @ $(seed_lat "$load") s |"
        echo "seed_experiment: N=$n load $load tx/unit ($rate tx/s): $(jnum "$RUN_JSON" throughput_tx_s) tx/s, p50 $(jsub "$RUN_JSON" latency_ms p50) ms" >&2
    done
done
BENCH_HEADER_STD="$BENCH_HEADER_STD | seed (AlephZero PoC, 128 nodes, AWS 8 regions)"
bench_finish "The seed's experiment in miniature: 8 regions emulated ($(basename "$matrix")), $tx-byte transactions, $duration s per load" \
    "members | tx per unit (seed's load) | calibrated rounds/s" \
    "Offered rate = tx per unit x members x calibrated rounds/s. Latency here is end to end (send to output at the member it was sent to); the seed's is its reported latency per load."
