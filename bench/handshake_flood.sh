#!/usr/bin/env bash
# How soon a committee orders when it starts under a flood of unauthenticated connections on
# its member ports, against the same start without the flood (docs/BENCHMARKS.md,
# "Handshake flood").
#
# usage: bench/handshake_flood.sh PATH_TO_aleph [RUNS] [PER_TARGET]   (default 5, 100)
#
# Each run: a committee of 4 on loopback; unless "none", tests/support/conn_flood.py holds
# PER_TARGET connections per member port (half idle, half after a hello of the right session)
# and re-opens each one the moment it is closed. The members start highest index first, 2 s
# apart, so every port is under the full flood before the members that dial it start; the
# committee starts when member 0 (the last, which dials all three) starts. Measured per run:
# from member 0's node_started to the first head_decided of the slowest member. Floods:
#   none     no flood
#   others   from 20 loopback addresses that are no member's (127.0.0.2-21): strangers
#   member   from 127.0.0.1, the members' own address (an attacker on a member's host)
set -u
aleph=${1:?usage: handshake_flood.sh PATH_TO_aleph [RUNS] [PER_TARGET]}
runs=${2:-5}
per_target=${3:-100}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/tests/lib/procs.sh"
n=4
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-bench-hs.XXXXXX")
pids=()
trap 'touch "$dir/stop"; procs_kill; rm -rf "$dir"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null

ms_of() { python3 -c 'import sys, datetime
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ")
print(int(t.timestamp() * 1000))' "$1"; }

one_run() { # one_run FLOOD -> prints ms from the committee's start to the last first batch
    local flood=$1 run="$dir/run" base session i t0 worst=0 ts first
    rm -rf "$run" "$dir/stop"
    # below the ephemeral range (32768 up): the flood's own connections from 127.0.0.1 take
    # ephemeral ports, and could take a member's before it binds
    base=$(free_port_base $((2 * n)))
    while [ "$base" -ge 32000 ]; do base=$(free_port_base $((2 * n))); done
    "$aleph" keygen --members $n --out "$run/keys" --base-port "$base" \
        --client-base-port $((base + n)) >/dev/null || return 1
    session=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["session"])' "$run/keys/committee.json")
    local targets=()
    for i in $(seq 0 $((n - 1))); do targets+=(--target "127.0.0.1:$((base + i))"); done
    if [ "$flood" != none ]; then
        local s1=127.0.0.2-127.0.0.11 s2=127.0.0.12-127.0.0.21
        [ "$flood" = member ] && { s1=127.0.0.1; s2=127.0.0.1; }
        python3 "$here/tests/support/conn_flood.py" "${targets[@]}" --per-target $((per_target / 2)) \
            --sources "$s1" --stop-file "$dir/stop" >/dev/null &
        pids+=($!)
        python3 "$here/tests/support/conn_flood.py" "${targets[@]}" --per-target $((per_target / 2)) \
            --sources "$s2" --hello "$session" --stop-file "$dir/stop" >/dev/null &
        pids+=($!)
        sleep 1
    fi
    for i in $(seq $((n - 1)) -1 0); do
        "$aleph" node --committee "$run/keys/committee.json" --key "$run/keys/member-$i.key" \
            --data-dir "$run/m$i" --log-units off --idle-round-delay-ms 50 2>/dev/null &
        pids+=($!)
        [ "$i" -gt 0 ] && sleep 2
    done
    sleep 12
    touch "$dir/stop"
    procs_kill
    pids=()
    ts=$(grep -m1 '"event":"node_started"' "$run/m0/node.log" 2>/dev/null | grep -o '"ts":"[^"]*"' | cut -d'"' -f4)
    [ -n "$ts" ] || { echo "nostart"; return 0; }
    t0=$(ms_of "$ts")
    for i in $(seq 0 $((n - 1))); do
        first=$(grep -m1 '"event":"head_decided"' "$run/m$i/node.log" | grep -o '"ts":"[^"]*"' | cut -d'"' -f4)
        [ -n "$first" ] || { echo "none"; return 0; }
        first=$(ms_of "$first")
        [ $((first - t0)) -gt "$worst" ] && worst=$((first - t0))
    done
    echo "$worst"
}

echo "handshake_flood: N=$n, $per_target unauthenticated connections per member port, $runs runs each"
echo "flood   ms from the committee's start to every member's first batch (per run)"
for flood in ${FLOODS:-none others member}; do
    line=""
    for _ in $(seq "$runs"); do line="$line $(one_run "$flood")"; done
    printf '%-7s %s\n' "$flood" "$line"
done
