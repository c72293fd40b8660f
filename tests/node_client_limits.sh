#!/usr/bin/env bash
# The client port's limits, against a committee of 4 real `aleph node` processes on loopback:
# - 1,100 idle connections to member 0 (more than its 1,024 bound; from 127.0.0.2-4, under
#   the per-source bound) are held: a new client is still served (`aleph submit` answers ok:
#   the connection idle longest made room), and the connections the node would not keep
#   were told so (status 5), none closed without a word;
# - member 1 (--client-subscribers-max 2): a third subscriber is answered 5;
# - member 2 (--client-idle-timeout-ms 1500, --client-read-timeout-ms 1000): an idle
#   connection and one that sends half a length and stops are both closed;
# - every limit that acted is counted in the stats lines and summed up in "limits" lines.
# Deadlines are generous; nothing here measures speed. The committee keeps ordering and
# agrees throughout (check_outputs.py).
#
# Seen to fail: against the node before the client-port limits, the new client's connection
# was closed without an answer ("the member closed the connection") and 76 of the idle ones
# were closed silently.
set -u
aleph=${1:?usage: node_client_limits.sh PATH_TO_aleph}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/procs.sh"
check="python3 $here/support/check_outputs.py"
hold="python3 $here/support/client_hold.py"
n=4
idle_count=1100
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-client-limits.XXXXXX")
pids=()
cleanup() {
    touch "$dir/stop"
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ -n "${CLIENT_LIMITS_KEEP:-}" ]; then echo "node_client_limits: kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
fail() {
    echo "node_client_limits: FAIL: $*"
    for i in $(seq 0 $((n - 1))); do
        echo "member $i: $(grep '"event":"stats"' "$dir/m$i/node.log" 2>/dev/null | tail -1 | grep -o '"clients":{[^}]*}')"
    done
    exit 1
}
step() { echo "node_client_limits: [$(date +%T)] $*"; }

python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null ||
    { echo "node_client_limits: SKIP: cannot bind 127.0.0.2 (no 127/8 loopback)"; exit 77; }
# This script's idle connections need $idle_count descriptors (the nodes raise their own).
raise_fds $((idle_count + 200)) node_client_limits || exit 77

base=$(free_port_base 8)
[ -n "$base" ] || fail "no free ports"
"$aleph" keygen --members $n --out "$dir/keys" --base-port "$base" --client-base-port $((base + n)) \
    >/dev/null || fail "keygen"
start() {
    local i=$1
    shift
    "$aleph" node --committee "$dir/keys/committee.json" --key "$dir/keys/member-$i.key" \
        --data-dir "$dir/m$i" --log-units off --idle-round-delay-ms 50 "$@" 2>>"$dir/m$i.err" &
    pids+=($!)
}
start 0
start 1 --client-subscribers-max 2
start 2 --client-idle-timeout-ms 1500 --client-read-timeout-ms 1000
start 3
cport() { echo $((base + n + $1)); }
for i in $(seq 0 $((n - 1))); do
    t=0
    until timeout 5 "$aleph" submit --to "127.0.0.1:$(cport "$i")" "warm-$i" >/dev/null 2>&1; do
        sleep 0.2; t=$((t + 1)); [ "$t" -lt 150 ] || fail "member $i's client port never answered"
    done
done
step "committee up"

# 1. Idle connections beyond the bound; a new client is served.
$hold idle "127.0.0.1:$(cport 0)" $idle_count 127.0.0.2-4 "$dir/stop" "$dir/idle.json" &
pids+=($!)
t=0
until [ -f "$dir/idle.json" ] &&
      python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(j["opened"] < int(sys.argv[2]) or j["open"] + j["refused"] + j["silent"] < j["opened"])' \
          "$dir/idle.json" $idle_count; do
    sleep 0.2; t=$((t + 1)); [ "$t" -lt 300 ] || fail "the idle connections were not all opened"
done
sleep 3 # idle for longer than CLIENT_EVICT_IDLE_MS_MIN, and the node has seen them all
step "idle connections: $(cat "$dir/idle.json")"
out=$(timeout 30 "$aleph" submit --to "127.0.0.1:$(cport 0)" "new-client-$base" 2>&1)
[ "$out" = ok ] || fail "a new client next to $idle_count idle connections got '$out'"
out=$(timeout 30 "$aleph" submit --ack durable --to "127.0.0.1:$(cport 0)" "new-durable-$base" 2>&1)
[ "$out" = durable ] || fail "a new durable client got '$out'"
echo "new-durable-$base" >"$dir/durable.txt"
sleep 1
python3 - "$dir/idle.json" <<'EOF' || fail "idle connections: $(cat "$dir/idle.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j['silent'] == 0, 'closed without a word'
assert j['refused'] >= 1, 'none told 5 (the bound never acted?)'
assert j['open'] >= 900, 'too few held'
EOF
step "new clients served; idle: $(cat "$dir/idle.json")"

# 2. The bound on subscribers (member 1: 2).
sub=$($hold subscribe "127.0.0.1:$(cport 1)" 3)
[ "$sub" = '{"kept": 2, "refused": 1}' ] || fail "subscribers at a bound of 2: $sub"

# 3. Idle and read timeouts (member 2).
exec 7<>"/dev/tcp/127.0.0.1/$(cport 2)" || fail "cannot connect to member 2"
timeout 60 $hold slow "127.0.0.1:$(cport 2)" || fail "a connection stuck in the middle of a length was not closed"
t=0
while :; do
    line=$(grep '"event":"stats"' "$dir/m2/node.log" | tail -1)
    it=$(echo "$line" | grep -o '"idle_timeouts":[0-9]*' | grep -o '[0-9]*$')
    rt=$(echo "$line" | grep -o '"read_timeouts":[0-9]*' | grep -o '[0-9]*$')
    [ "${it:-0}" -ge 1 ] && [ "${rt:-0}" -ge 1 ] && break
    sleep 0.5; t=$((t + 1))
    [ "$t" -lt 120 ] || fail "member 2 counted ${it:-0} idle and ${rt:-0} read timeouts (want 1 each)"
done
exec 7>&-
step "subscribers bounded, timeouts acted"

# Counted, and summed up once per interval.
l0=$(grep '"event":"stats"' "$dir/m0/node.log" | tail -1)
ev=$(echo "$l0" | grep -o '"evicted_idle":[0-9]*' | grep -o '[0-9]*$')
[ "${ev:-0}" -ge 1 ] || fail "member 0 counted no idle connection closed to make room"
grep -q '"event":"limits".*"evicted_idle":[1-9]' "$dir/m0/node.log" || fail "member 0: no limits line"
l1=$(grep '"event":"stats"' "$dir/m1/node.log" | tail -1)
echo "$l1" | grep -q '"refused_subscribers":1' || fail "member 1 did not count the refused subscriber"

outs=()
for i in $(seq 0 $((n - 1))); do outs+=("$dir/m$i/output.bin"); done
t=0
until $check --wait "$dir/durable.txt" "${outs[@]}" >/dev/null 2>&1; do
    sleep 0.5; t=$((t + 1)); [ "$t" -lt 120 ] || fail "the durable transaction did not reach every output"
done
touch "$dir/stop"
for p in "${pids[@]:0:4}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${pids[@]:0:4}"; do wait "$p" || fail "a member did not stop cleanly"; done
wait
pids=()
$check "$dir/durable.txt" "${outs[@]}" || fail "outputs disagree"
step "ok"
