#!/usr/bin/env bash
# Restart to current: N members of `aleph node` on loopback under load; member 0 is killed
# (kill -9) for D seconds and restarted from its backup. Reports, per D:
#   current_s   time from the restart to the first stats line (1 s apart) at which member 0
#               has ordered the round the others had ordered at the restart, plus the gap it
#               then still has (rounds behind the others at the same second);
#   bytes_in    bytes member 0 received from its restart until current;
#   unit_bytes  bytes of the units it added to its backup over the same time (the missing
#               units and those created meanwhile): bytes_in / unit_bytes is the overhead;
#   cpu         CPU seconds (user + system, all threads: the stats line's cpu_s) member 0
#               spent from its restart to the stats line at which it was current (restore,
#               the own check and catch-up; that line's uptime_s is the wall time), and the
#               CPU the other members spent meanwhile (/proc/PID/stat): figures that do not
#               depend on the machine's other load the way wall times do; and member 0's
#               user and system seconds from /proc when current was seen (up to 0.25 s
#               after that stats line): the system time is mostly its file writes.
# With PERF=1, member 0 is recorded with `perf record ${PERF_ARGS:--g}` from its restart until current
# (perf-D.data in the run directory; KEEP=1 keeps it). NODE_FLAGS: more `aleph node` flags for
# every member (e.g. NODE_FLAGS="--precheck off" for an A/B run with one binary).
# Also: hangover after a pause: member 1 SIGSTOPped for P seconds, then SIGCONT; seconds
# until its round_created is within 10 rounds of the others', and seconds until member 2's
# own units' consensus latency (p50 per second) is back to its value before the pause.
#
# usage: bench/restart.sh PATH_TO_aleph [--members N] [--rate R] [--down "10 60"] [--pause P]
set -u
aleph=${1:?usage: bench/restart.sh PATH_TO_aleph [--members N] [--rate R] [--down "10 60"]}
shift
n=4 rate=2000 downs="10 60" pause=20
while [ $# -gt 0 ]; do
    case $1 in
    --members) n=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --down) downs=$2; shift 2 ;;
    --pause) pause=$2; shift 2 ;;
    *) echo "unknown option $1"; exit 2 ;;
    esac
done
. "$(cd "$(dirname "$0")" && pwd)/../tests/lib/procs.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-bench-restart.XXXXXX")
pids=()
cleanup() {
    procs_kill
    if [ -n "${KEEP:-}" ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
base=$(free_port_base $((2 * n)))
"$aleph" keygen --members "$n" --out "$dir/keys" --base-port "$base" --client-base-port $((base + n)) >/dev/null
start() {
    # Member 2 logs its units (each own unit's consensus latency) for the hangover figure.
    local units=off
    [ "$1" = 2 ] && units=on
    "$aleph" node --committee "$dir/keys/committee.json" --key "$dir/keys/member-$1.key" \
        --data-dir "$dir/m$1" --log-units $units ${NODE_FLAGS:-} 2>>"$dir/m$1.err" &
    pids[$1]=$!
}
hz=$(getconf CLK_TCK)
cpu_s() { awk -v hz="$hz" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null; }
cpu_others() {
    local sum=0 i
    for i in $(seq 1 $((n - 1))); do sum=$(echo "$sum + $(cpu_s "${pids[$i]}")" | bc); done
    echo "$sum"
}
field() { grep -o "\"$2\":-\\?[0-9]*" <<<"$1" | head -1 | cut -d: -f2; }
last_stats() { grep '"event":"stats"' "$dir/m$1/node.log" | tail -1; }
for i in $(seq 0 $((n - 1))); do start "$i"; done
sleep 2 # client ports listening
to=""
for i in $(seq 0 $((n - 1))); do to="$to${to:+,}127.0.0.1:$((base + n + i))"; done
total=20
for d in $downs; do total=$((total + d + 40)); done
total=$((total + pause + 40))
"$aleph" load --to "$to" --rate "$rate" --tx-size 512 --duration "$total" >"$dir/load.txt" 2>&1 &
sleep 8
grep -q "no target" "$dir/load.txt" && { cat "$dir/load.txt"; exit 1; }
echo "# N=$n, load $rate tx/s x 512 B over all members, machine: $(nproc) cores, load avg $(cut -d' ' -f1-3 /proc/loadavg)"
for d in $downs; do
    kill -9 "${pids[0]}"; wait "${pids[0]}" 2>/dev/null
    sleep "$d"
    target=$(field "$(last_stats 1)" round_ordered)
    size0=$(stat -c %s "$dir/m0/backup-0.bin")
    lines0=$(grep -c '"event":"stats"' "$dir/m0/node.log")
    others0=$(cpu_others)
    t0=$(date +%s.%N)
    start 0
    perf_pid=""
    if [ -n "${PERF:-}" ]; then
        perf record -q ${PERF_ARGS:--g} -o "$dir/perf-$d.data" -p "${pids[0]}" 2>"$dir/perf-$d.err" &
        perf_pid=$!
    fi
    current=""
    for _ in $(seq 120); do
        sleep 0.25
        s=$(grep '"event":"stats"' "$dir/m0/node.log" | tail -n +$((lines0 + 1)) | tail -1)
        [ -n "$s" ] || continue
        ro=$(field "$s" round_ordered)
        if [ -n "$ro" ] && [ "$ro" -ge "$target" ]; then
            current=$(echo "$(date +%s.%N) - $t0" | bc)
            others1=$(cpu_others)
            split0=$(awk -v hz="$hz" '{printf "user %.2f s, system %.2f s", $14 / hz, $15 / hz}' "/proc/${pids[0]}/stat")
            cpu0=$(grep -o '"cpu_s":[0-9.]*' <<<"$s" | cut -d: -f2)
            up0=$(grep -o '"uptime_s":[0-9.]*' <<<"$s" | cut -d: -f2)
            bin=$(field "$s" bytes_in)
            size1=$(stat -c %s "$dir/m0/backup-0.bin")
            others=$(field "$(last_stats 1)" round_ordered)
            printf "down %3s s: current after %.1f s (target round %s; now %s vs %s at member 1); bytes_in %s, unit bytes added %s, ratio %.2f\n" \
                "$d" "$current" "$target" "$ro" "$others" "$bin" "$((size1 - size0))" \
                "$(echo "$bin / ($size1 - $size0)" | bc -l)"
            printf "down %3s s: at that stats line member 0 was up %s s and had used %s s of CPU; members 1..%d together %.2f s meanwhile; load avg %s\n" \
                "$d" "$up0" "$cpu0" $((n - 1)) "$(echo "$others1 - $others0" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
            printf "down %3s s: member 0's CPU when seen current: %s\n" "$d" "$split0"
            break
        fi
    done
    [ -n "$perf_pid" ] && { kill -INT "$perf_pid"; wait "$perf_pid"; }
    [ -n "$current" ] || echo "down $d s: not current within 30 s (target round $target, at $(field "$(last_stats 0)" round_ordered))"
    sleep 5
done
t_stop=$(date +%s.%N)
kill -STOP "${pids[1]}"
sleep "$pause"
kill -CONT "${pids[1]}"
t0=$(date +%s.%N)
lines1=$(grep -c '"event":"stats"' "$dir/m1/node.log")
for _ in $(seq 240); do
    sleep 0.25
    s=$(grep '"event":"stats"' "$dir/m1/node.log" | tail -n +$((lines1 + 1)) | tail -1)
    [ -n "$s" ] || continue
    rc=$(field "$s" round_created)
    other=$(field "$(last_stats 2)" round_created)
    if [ "$rc" -ge $((other - 10)) ]; then
        printf "pause %s s: member 1 creating within 10 rounds of member 2 after %.1f s\n" "$pause" \
            "$(echo "$(date +%s.%N) - $t0" | bc)"
        break
    fi
done
# Hangover: member 2's own units' consensus latency (created to ordered), p50 per second; the
# baseline is the p50 of the 10 s before the pause; the hangover is the time from SIGCONT to
# the first second from which 3 seconds in a row have a p50 within 10% (or 2 ms) of it.
sleep 15
python3 - "$dir/m2/node.log" "$t_stop" "$t0" <<'PY'
import json, sys, datetime, statistics
log, t_stop, t_cont = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
lat = []
for line in open(log):
    if '"unit_ordered"' not in line or '"creator":2,' not in line: continue
    j = json.loads(line)
    t = datetime.datetime.strptime(j["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    lat.append((t, j["latency_ms"]))
base = [l for t, l in lat if t_stop - 10 <= t < t_stop]
if not base: sys.exit("hangover: no units before the pause")
b = statistics.median(base)
per = {}
for t, l in lat:
    if t >= t_cont: per.setdefault(int(t - t_cont), []).append(l)
ok = lambda s: s in per and statistics.median(per[s]) <= max(b * 1.1, b + 2)
secs = sorted(per)
first = next((s for s in secs if ok(s) and ok(s + 1) and ok(s + 2)), None)
print("pause: member 2's unit latency p50 %.0f ms before; per second after SIGCONT: %s; hangover %s" % (
    b, " ".join("%d" % statistics.median(per[s]) for s in secs[:12]),
    "%d s" % first if first is not None else "not over within %d s" % (secs[-1] + 1 if secs else 0)))
PY
