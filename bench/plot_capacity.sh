#!/usr/bin/env bash
# Latency against throughput (p50 and p95 end to end) from capacity sweeps: one curve per
# results file of bench/capacity.sh, drawn with gnuplot.
#
#   bench/plot_capacity.sh OUT.png bench/results/capacity-A.jsonl [capacity-B.jsonl ...]
set -u
out=${1:?usage: plot_capacity.sh OUT.png RESULTS.jsonl...}
shift
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/aleph-plot.XXXXXX")
trap 'rm -rf "$work"' EXIT
plot="" k=0
for f in "$@"; do
    k=$((k + 1))
    grep -v '"failed": true' "$f" | while read -r line; do
        echo "$(jnum "$line" throughput_tx_s) $(jsub "$line" latency_ms p50) $(jsub "$line" latency_ms p95)"
    done | sort -g > "$work/$k.dat"
    first=$(head -1 "$f")
    net=$(echo "$first" | grep -o '"network": "[^"]*"' | head -1 | sed 's/.*: "//; s/"$//')
    title="$(jnum "$first" members) members, $net"
    plot+="${plot:+, }'$work/$k.dat' using (\$1/1000):2 with linespoints lw 2 pt 7 title '$title: p50', '' using (\$1/1000):3 with linespoints lw 1 dt 2 pt 6 title '$title: p95'"
done
gnuplot <<GP
set terminal pngcairo size 1000,560 noenhanced
set output '$out'
set title "End-to-end latency against throughput (bench/capacity.sh; $(nproc)-core machine, every member a process on it)"
set xlabel 'throughput (thousand tx/s, 512-byte tx)'
set ylabel 'latency (ms)'
set logscale y
set grid
set key top left box opaque
set arrow from graph 0, first 1000 to graph 1, first 1000 nohead dt 3 lc rgb 'gray40'
set label 'loopback cap 1 s' at graph 0.82, first 1150 tc rgb 'gray40'
set arrow from graph 0, first 3000 to graph 1, first 3000 nohead dt 3 lc rgb 'gray40'
set label 'WAN cap 3 s' at graph 0.82, first 3450 tc rgb 'gray40'
plot $plot
GP
echo "plot_capacity: wrote $out"
