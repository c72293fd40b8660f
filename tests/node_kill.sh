#!/usr/bin/env bash
# `aleph local`, N=4 with one member killed (SIGKILL) at half time: the three others keep
# ordering (many rounds after the kill), agree, and output every transaction they accepted
# exactly once.
set -u
aleph=${1:?usage: node_kill.sh PATH_TO_aleph}
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-node-kill.XXXXXX")
trap 'rm -rf "$dir"' EXIT

out=$("$aleph" local --members 4 --faulty 1 --duration 12 --rate 2000 --out "$dir/run" --json --quiet)
rc=$?
echo "$out"
fail() { echo "node_kill: FAIL: $*"; cat "$dir"/run/summary.txt 2>/dev/null; exit 1; }
[ "$rc" -eq 0 ] || fail "aleph local exited with status $rc"
echo "$out" | grep -q '"agreement": true' || fail "no agreement"
echo "$out" | grep -q '"exactly_once": true' || fail "not exactly once"
after=$(echo "$out" | grep -o '"rounds_after_kill": -\?[0-9]*' | grep -o -- '-\?[0-9]*$')
[ -n "$after" ] && [ "$after" -ge 100 ] || fail "only ${after:-no} rounds ordered after the kill (want >= 100)"
# The killed member was honest until it died: its output is a prefix too (checked by aleph
# local), and the survivors stopped cleanly.
for i in 0 1 2; do
    grep -q '"event":"final_stats"' "$dir/run/member-$i/node.log" || fail "member $i did not stop cleanly"
done
echo "node_kill: ok ($after rounds after the kill)"
