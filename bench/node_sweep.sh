#!/usr/bin/env bash
# Sweeps the offered load of `aleph local` and prints one line per run: the capacity is the
# highest throughput whose p50 end-to-end latency stays under 1 s (docs/BENCHMARKING.md) with
# the client keeping its rate and throughput close to the offered load.
#
#   bench/node_sweep.sh PATH_TO_aleph [RATES] [REPEATS] [DURATION] [EXTRA aleph local ARGS...]
#   bench/node_sweep.sh build-rel/aleph "10000 50000 100000 150000 200000" 3 20
#
# Runs are interleaved (every rate once, then again) so that noise from other work on the
# machine spreads over all rates; compare medians. Run directories go to a temporary folder
# and are removed.
set -u
aleph=${1:?usage: node_sweep.sh PATH_TO_aleph [RATES] [REPEATS] [DURATION] [ARGS...]}
rates=${2:-"10000 50000 100000 150000 200000"}
repeats=${3:-3}
duration=${4:-20}
shift $(( $# < 4 ? $# : 4 ))
work=$(mktemp -d "${TMPDIR:-/tmp}/aleph-sweep.XXXXXX")
trap 'rm -rf "$work"' EXIT

field() { echo "$1" | grep -o "\"$2\": [-0-9.a-z]*" | head -1 | sed 's/.*: //'; }
sub() { echo "$1" | grep -o "\"$2\": {[^}]*}" | grep -o "\"$3\": [-0-9.]*" | sed 's/.*: //'; }

printf "# %s, %s cores, load %s\n" "$(uname -n)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf "# aleph local --members 4 --tx-size 512 --duration %s %s\n" "$duration" "$*"
printf "%-4s %9s %11s %9s %9s %9s %8s %8s %8s %6s %5s %8s\n" run offered throughput p50_ms \
    p95_ms p99_ms rounds_s cpu_s rss_mb kept agree other_cpu
for rep in $(seq 1 "$repeats"); do
    for rate in $rates; do
        rm -rf "$work/run"
        out=$("$aleph" local --members 4 --tx-size 512 --duration "$duration" --rate "$rate" \
              --out "$work/run" --json --quiet "$@" 2>"$work/err")
        rc=$?
        if [ -z "$out" ]; then
            echo "rate $rate: aleph local failed (status $rc): $(head -3 "$work/err")"
            continue
        fi
        printf "%-4s %9s %11s %9s %9s %9s %8s %8s %8s %6s %5s %8s\n" "$rep" "$rate" \
            "$(field "$out" throughput_tx_s)" "$(sub "$out" latency_ms p50)" \
            "$(sub "$out" latency_ms p95)" "$(sub "$out" latency_ms p99)" \
            "$(field "$out" rounds_per_s)" "$(field "$out" cpu_s_per_member)" \
            "$(field "$out" peak_rss_mb)" "$(field "$out" client_kept_rate)" \
            "$(field "$out" agreement)" "$(field "$out" other_cpu_s)"
        if [ "$rc" -ne 0 ]; then
            echo "  rate $rate run $rep: aleph local exited $rc:"; grep -i "fail" "$work/err" | sed 's/^/    /'
            cp -r "$work/run" "${TMPDIR:-/tmp}/aleph-sweep-failed-$rate-$rep" 2>/dev/null &&
                echo "    kept in ${TMPDIR:-/tmp}/aleph-sweep-failed-$rate-$rep"
        fi
    done
done
