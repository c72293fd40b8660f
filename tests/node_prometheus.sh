#!/usr/bin/env bash
# The real Prometheus (Debian's prometheus package) scrapes a committee: `aleph local
# --metrics` (N=4) writes DIR/prometheus_targets.json, a generated configuration points
# Prometheus at it (file_sd, 1 s scrapes, free ports), and Prometheus's HTTP API must show
# every member up, the series arrived (per member, per peer, histograms) and a counter
# growing. Skips (status 77) with one line where the package is absent; .ci/run installs it.
# Checked to fail: with the node serving its series at another path, `up` stays 0 and the
# test fails.
set -u
aleph=${1:?usage: node_prometheus.sh PATH_TO_aleph}
if ! command -v prometheus >/dev/null; then
    echo "node_prometheus: SKIP: prometheus is not installed (apt-get install prometheus; .ci/run installs it)"
    exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/http.sh"
. "$here/lib/local_metrics.sh"
. "$here/lib/procs.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-node-prometheus.XXXXXX")
local_pid="" prom_pid=""
cleanup() {
    [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
    [ -n "$local_pid" ] && kill "$local_pid" 2>/dev/null && wait "$local_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "node_prometheus: FAIL: $*"; tail -5 "$dir/prometheus.log" 2>/dev/null; exit 1; }

local_metrics_start "$aleph" "$dir" 15

cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: aleph
    file_sd_configs:
      - files: ["$targets"]
YAML
# A free port: random, not listening now; retried if Prometheus cannot bind it after all.
pport=""
for _ in $(seq 1 10); do
    p=$(free_port_base 1)
    prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
        --web.listen-address="127.0.0.1:$p" >"$dir/prometheus.log" 2>&1 &
    prom_pid=$!
    for _ in $(seq 1 100); do
        kill -0 "$prom_pid" 2>/dev/null || break
        [ "$(http_get 127.0.0.1 "$p" /-/ready | http_status)" = 200 ] && { pport=$p; break; }
        sleep 0.2
    done
    [ -n "$pport" ] && break
    kill "$prom_pid" 2>/dev/null; wait "$prom_pid" 2>/dev/null; prom_pid=""
done
[ -n "$pport" ] || fail "Prometheus did not start"

# query EXPR_URLENCODED: the API's answer body
query() { http_get 127.0.0.1 "$pport" "/api/v1/query?query=$1" | sed '1,/^\r$/d'; }
series() { query "$1" | grep -o '"metric":' | wc -l; }
scalar() { query "$1" | grep -o '"value":\[[0-9.]*,"[0-9.e+]*"' | sed 's/.*,"//; s/"$//'; }

up=0
for _ in $(seq 1 60); do
    up=$(scalar 'sum%28up%29')
    [ "${up%.*}" = 4 ] && break
    sleep 0.5
done
[ "${up%.*}" = 4 ] || fail "Prometheus sees ${up:-no} of 4 members up"
for s in aleph_transactions_ordered_total aleph_batches_ordered_total aleph_round_ordered \
    aleph_ordering_latency_seconds_count aleph_backup_sync_duration_seconds_count \
    process_resident_memory_bytes; do
    [ "$(series "$s")" -eq 4 ] || fail "$s: $(series "$s") series, want 4 (one per member)"
done
[ "$(series aleph_peer_sent_bytes_total)" -eq 12 ] || fail "aleph_peer_sent_bytes_total: want 12 series"
[ "$(series aleph_ordering_latency_seconds_bucket)" -ge 40 ] || fail "ordering latency buckets missing"
t1=$(scalar 'sum%28aleph_transactions_ordered_total%29')
t2=$t1
for _ in $(seq 1 40); do
    sleep 0.5
    t2=$(scalar 'sum%28aleph_transactions_ordered_total%29')
    awk -v a="${t1:-0}" -v b="${t2:-0}" 'BEGIN { exit !(b > a) }' && break
done
awk -v a="${t1:-0}" -v b="${t2:-0}" 'BEGIN { exit !(b > a) }' ||
    fail "aleph_transactions_ordered_total did not grow in Prometheus ($t1 -> $t2)"

kill "$prom_pid"; wait "$prom_pid" 2>/dev/null; prom_pid=""
wait "$local_pid"; rc=$?; local_pid=""
[ "$rc" -eq 0 ] || fail "aleph local exited with status $rc"
grep -q '"agreement": true' "$dir/out.json" || fail "no agreement"
echo "node_prometheus: ok (Prometheus on port $pport: 4 members up; transactions ordered, all members, $t1 -> $t2)"
