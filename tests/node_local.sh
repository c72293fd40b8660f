#!/usr/bin/env bash
# `aleph local`, N=4, 10 s at 2,000 tx/s: the members agree, every accepted transaction is
# output exactly once by every member, no member logs a warning, and more than 200 rounds
# are ordered. `aleph local` checks all of it itself and exits non-zero on a failure; the
# script checks its exit status and the summary's fields.
set -u
aleph=${1:?usage: node_local.sh PATH_TO_aleph}
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-node-local.XXXXXX")
trap 'rm -rf "$dir"' EXIT

out=$("$aleph" local --members 4 --duration 10 --rate 2000 --tx-size 512 --out "$dir/run" --json --quiet)
rc=$?
echo "$out"
fail() { echo "node_local: FAIL: $*"; cat "$dir"/run/summary.txt 2>/dev/null; exit 1; }
[ "$rc" -eq 0 ] || fail "aleph local exited with status $rc"
echo "$out" | grep -q '"agreement": true' || fail "no agreement"
echo "$out" | grep -q '"exactly_once": true' || fail "not exactly once"
echo "$out" | grep -q '"txs_missing": 0,' || fail "transactions missing"
echo "$out" | grep -q '"warn_lines": 0,' || fail "warnings logged"
last_round=$(echo "$out" | grep -o '"last_round": [0-9]*' | grep -o '[0-9]*$')
[ -n "$last_round" ] && [ "$last_round" -ge 200 ] || fail "only ${last_round:-no} rounds ordered (want >= 200)"
accepted=$(echo "$out" | grep -o '"txs_accepted": [0-9]*' | grep -o '[0-9]*$')
[ -n "$accepted" ] && [ "$accepted" -ge 15000 ] || fail "only ${accepted:-no} transactions accepted"
for i in 0 1 2 3; do
    grep -q '"event":"final_stats"' "$dir/run/member-$i/node.log" || fail "member $i did not stop cleanly"
done
echo "node_local: ok ($last_round rounds, $accepted transactions)"
