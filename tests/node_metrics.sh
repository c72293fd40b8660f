#!/usr/bin/env bash
# aleph node --metrics without Prometheus: `aleph local --metrics` (N=4, light load) gives
# every member a metrics port; a member's /health answers 200 once linked and ordering, its
# /metrics carries the series of docs/METRICS.md (promtool's lint too, where installed) and a
# counter grows under load; hostile requests get 4xx; the committee still agrees. Then member 0
# alone (no quorum linked) answers /health with 503, holds at most 16 connections and times
# idle ones out with 408.
# Checked to fail: with HTTP_CONNECTIONS_MAX at 64 the 17th connection is held and the test
# fails; with node_metrics_healthy's quorum condition removed, the 503 check fails
# (the lone member then reports only that no batch came); with the per-peer series left out,
# the series check fails.
set -u
aleph=${1:?usage: node_metrics.sh PATH_TO_aleph}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/http.sh"
. "$here/lib/local_metrics.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-node-metrics.XXXXXX")
local_pid="" alone_pid=""
cleanup() {
    [ -n "$alone_pid" ] && kill "$alone_pid" 2>/dev/null
    [ -n "$local_pid" ] && kill "$local_pid" 2>/dev/null && wait "$local_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "node_metrics: FAIL: $*"; cat "$dir/err.txt" 2>/dev/null | head -20; exit 1; }

local_metrics_start "$aleph" "$dir" 10
mapfile -t addrs < <(grep -o '"[0-9.]*:[0-9]*"' "$targets" | tr -d '"')
[ "${#addrs[@]}" -eq 4 ] || fail "want 4 targets, got ${#addrs[@]}"
grep -q "member 3 metrics http://${addrs[3]}/metrics" "$dir/err.txt" || fail "URLs not printed"
host=${addrs[1]%:*} port=${addrs[1]#*:}

status=""
for _ in $(seq 1 60); do
    status=$(http_get "$host" "$port" /health | http_status)
    [ "$status" = 200 ] && break
    sleep 0.5
done
[ "$status" = 200 ] || fail "/health of a running committee answered ${status:-nothing}"

http_get "$host" "$port" /metrics >"$dir/m1.txt" || fail "no answer on /metrics"
[ "$(http_status <"$dir/m1.txt")" = 200 ] || fail "/metrics status $(http_status <"$dir/m1.txt")"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$dir/m1.txt" || fail "wrong content type"
for series in aleph_round_created aleph_round_ordered aleph_units_created_total \
    aleph_batches_ordered_total aleph_transactions_ordered_total aleph_units_added_total \
    aleph_forks_detected_total aleph_coin_shares_created_total aleph_pool_transactions \
    'aleph_peer_sent_bytes_total{peer="0"}' 'aleph_peer_queue_messages{peer="3"}' \
    'aleph_ordering_latency_seconds_bucket{le="+Inf"}' aleph_backup_sync_duration_seconds_count \
    process_resident_memory_bytes 'aleph_healthy 1'; do
    grep -qF "$series" "$dir/m1.txt" || fail "series $series missing"
done
if command -v promtool >/dev/null; then
    sed '1,/^\r$/d' "$dir/m1.txt" | promtool check metrics >"$dir/lint.txt" 2>&1 ||
        fail "promtool check metrics: $(cat "$dir/lint.txt")"
fi
value() { sed -n "s/^$1 \([0-9]*\)\r\{0,1\}$/\1/p" "$2"; }
v1=$(value aleph_transactions_ordered_total "$dir/m1.txt")
v2=$v1
for _ in $(seq 1 40); do
    sleep 0.5
    http_get "$host" "$port" /metrics >"$dir/m2.txt"
    v2=$(value aleph_transactions_ordered_total "$dir/m2.txt")
    [ -n "$v2" ] && [ "$v2" -gt "${v1:-0}" ] && break
done
[ -n "$v1" ] && [ -n "$v2" ] && [ "$v2" -gt "$v1" ] || fail "transactions ordered did not grow ($v1 -> $v2)"

# Hostile requests: refused with a status, the port keeps serving.
exec 3<>"/dev/tcp/$host/$port"; printf 'POST /metrics HTTP/1.1\r\n\r\n' >&3
[ "$(timeout 10 cat <&3 | http_status)" = 405 ] || fail "POST not refused with 405"; exec 3<&-
exec 3<>"/dev/tcp/$host/$port"; printf 'GET /\001 HTTP/1.1\r\n\r\n' >&3
[ "$(timeout 10 cat <&3 | http_status)" = 400 ] || fail "garbage not refused with 400"; exec 3<&-
[ "$(http_get "$host" "$port" /nothing | http_status)" = 404 ] || fail "unknown path not 404"

wait "$local_pid"
rc=$?
local_pid=""
[ "$rc" -eq 0 ] || fail "aleph local exited with status $rc"
grep -q '"agreement": true' "$dir/out.json" || fail "no agreement"

# Member 0 alone: not linked to a quorum, so unhealthy.
mhost=${addrs[0]%:*} mport=${addrs[0]#*:}
"$aleph" node --committee "$dir/run/committee.json" --key "$dir/run/member-0.key" \
    --data-dir "$dir/alone" --metrics "${addrs[0]}" 2>>"$dir/err.txt" &
alone_pid=$!
status=""
for _ in $(seq 1 60); do
    http_get "$mhost" "$mport" /health >"$dir/h.txt" && status=$(http_status <"$dir/h.txt")
    [ -n "$status" ] && break
    sleep 0.2
done
[ "$status" = 503 ] || fail "/health of a lone member answered ${status:-nothing}, want 503"
grep -qF "linked to 1 of 4 members (itself included), quorum 3" "$dir/h.txt" ||
    fail "503 without the quorum reason: $(tail -1 "$dir/h.txt")"
# Bounded connections: 16 idle clients are held, a 17th is closed at once; the idle ones get
# 408 after the request timeout (5 s), and the port serves again afterwards.
fds=()
for _ in $(seq 1 16); do exec {fd}<>"/dev/tcp/$mhost/$mport"; fds+=("$fd"); done
sleep 0.5
exec {extra}<>"/dev/tcp/$mhost/$mport"
t0=$SECONDS
extra_out=$(timeout 4 cat <&"$extra"); extra_rc=$?
exec {extra}<&-
[ "$extra_rc" -eq 0 ] && [ -z "$extra_out" ] || fail "a 17th connection was not closed at once (rc $extra_rc)"
[ "$(timeout 15 cat <&"${fds[0]}" | http_status)" = 408 ] || fail "an idle connection got no 408"
for fd in "${fds[@]}"; do exec {fd}<&-; done
[ $((SECONDS - t0)) -le 12 ] || fail "the request timeout took $((SECONDS - t0)) s"
[ "$(http_get "$mhost" "$mport" /health | http_status)" = 503 ] || fail "the port stopped serving"
kill "$alone_pid"; wait "$alone_pid"; rc=$?; alone_pid=""
[ "$rc" -eq 0 ] || fail "the lone member did not stop cleanly on SIGTERM (status $rc)"
echo "node_metrics: ok (transactions ordered at member 1: $v1 -> $v2; lone member 503)"
