#!/usr/bin/env bash
# Soak: one long `aleph local` run at a steady load, every member's RSS sampled every
# --every seconds from /proc, a PNG of RSS over time, and the growth per member after the
# warm-up (least-squares slope, MB per minute). The issue's target is <= 1 MB/min per member
# after warm-up over 30 minutes at 10,000 tx/s x 512 B.
#
#   bench/soak.sh PATH_TO_aleph [--duration S] [--rate R] [--tx-size B] [--members N]
#                 [--every S] [--warmup S] [--keep] [-- MORE aleph local ARGS]
#
# Writes bench/results/soak-<stamp>.csv (t_s, member, rss_mb), .png, .md (machine, command,
# growth table, the run's summary). The run directory is deleted unless --keep (at 10k tx/s
# x 512 B every member's output file grows by ~5 MB/s).
set -u
aleph=${1:?usage: soak.sh PATH_TO_aleph [options]}
aleph=$(cd "$(dirname "$aleph")" && pwd)/$(basename "$aleph")
shift
. "$(dirname "$0")/lib.sh"
duration=1800 rate=10000 txsize=512 members=4 every=10 warmup=60 keep=0 extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --duration) duration=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --tx-size) txsize=$2; shift 2 ;;
        --members) members=$2; shift 2 ;;
        --every) every=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --) shift; extra=("$@"); break ;;
        *) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
bench_init soak
base=${BENCH_JSONL%.jsonl}
csv=$base.csv png=$base.png
run_dir=$BENCH_WORK/run
cmd=("$aleph" local --members "$members" --duration "$duration" --rate "$rate" \
     --tx-size "$txsize" --out "$run_dir" --quiet "${extra[@]}")
machine=$(machine_text)
"${cmd[@]}" > "$BENCH_WORK/summary.txt" 2>&1 &
local_pid=$!
echo "t_s,member,rss_mb" > "$csv"
start=$(date +%s)
# The members are the children of this aleph local process; --key names the member.
while kill -0 "$local_pid" 2>/dev/null; do
    now=$(( $(date +%s) - start ))
    for pid in $(pgrep -P "$local_pid" 2>/dev/null); do
        cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || continue
        case $cmdline in *" node "*) ;; *) continue ;; esac
        member=$(sed -n 's/.*member-\([0-9]*\)\.key.*/\1/p' <<< "$cmdline")
        rss=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null)
        [ -n "$member" ] && [ -n "$rss" ] && echo "$now,$member,$rss" >> "$csv"
    done
    sleep "$every"
done
wait "$local_pid"
status=$?
# Growth after the warm-up: the least-squares slope of RSS over time, per member.
growth=$(awk -F, -v w="$warmup" 'NR > 1 && $1 >= w {
        n[$2]++; sx[$2] += $1; sy[$2] += $3; sxx[$2] += $1 * $1; sxy[$2] += $1 * $3
        if (!($2 in first)) first[$2] = $3; last[$2] = $3 }
    END { for (m in n) { d = n[m] * sxx[m] - sx[m] * sx[m]
            s = d > 0 ? (n[m] * sxy[m] - sx[m] * sy[m]) / d * 60 : 0
            printf "| %s | %d | %.1f | %.1f | %.2f |\n", m, n[m], first[m], last[m], s } }' \
    "$csv" | sort -t'|' -k2 -n)
if command -v gnuplot > /dev/null; then
    gnuplot <<EOF
set terminal png size 900,500
set output "$png"
set datafile separator ","
set xlabel "time (s)"
set ylabel "RSS (MB)"
set title "aleph local: RSS per member, $members members, $rate tx/s x $txsize B"
set key left top
plot for [m=0:$((members - 1))] "$csv" using (\$2 == m ? \$1 : 1/0):3 with linespoints title sprintf("member %d", m)
EOF
fi
{
    echo "# Soak: aleph local, $members members, $rate tx/s x $txsize B, $duration s"
    echo
    echo "Machine: $machine."
    echo
    echo "Command: \`bench/soak.sh ${aleph#"$BENCH_REPO"/} --duration $duration --rate $rate --tx-size $txsize --members $members --every $every --warmup $warmup\`"
    echo "(runs \`aleph local --members $members --duration $duration --rate $rate --tx-size $txsize\`; exit status $status)."
    echo
    echo "RSS growth after ${warmup} s of warm-up (least-squares slope over the samples every ${every} s):"
    echo
    echo "| member | samples | RSS at warm-up end (MB) | RSS at the end (MB) | growth (MB/min) |"
    echo "|---|---|---|---|---|"
    echo "$growth"
    echo
    echo "Plot: $(basename "$png"); samples: $(basename "$csv")."
    echo
    echo '```'
    cat "$BENCH_WORK/summary.txt"
    echo '```'
} > "$BENCH_MD"
cat "$BENCH_MD"
[ "$keep" = 1 ] && { mv "$run_dir" "$base-run"; echo "run directory: $base-run"; }
exit "$status"
