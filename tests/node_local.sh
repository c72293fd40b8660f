#!/usr/bin/env bash
# `aleph local`, N=4, 10 s at 2,000 tx/s: the members agree, every accepted transaction is
# output exactly once by every member, no member logs a warning, and more than 200 rounds
# are ordered. `aleph local` checks all of it itself and exits non-zero on a failure; the
# script checks its exit status and the summary's fields. Members 1-3 write a hash chain per
# batch (the default), member 0 its full output: the agreement check must still compare for
# real, so the script then changes one batch's chain value in member 2's file, and one unit
# hash in member 0's, and `aleph analyze` must report the disagreement (exit 1) each time.
# Seen to fail: with the comparison at the last common batch only (as before chain files),
# the changed chain value in member 2's file passed as agreement.
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
# Batches, one per round: rounds restart with every epoch (aleph local: 1000 rounds each).
batches_out=$(echo "$out" | grep -o '"batches": [0-9]*' | head -1 | grep -o '[0-9]*$')
[ -n "$batches_out" ] && [ "$batches_out" -ge 200 ] || fail "only ${batches_out:-no} batches ordered (want >= 200)"
accepted=$(echo "$out" | grep -o '"txs_accepted": [0-9]*' | grep -o '[0-9]*$')
[ -n "$accepted" ] && [ "$accepted" -ge 15000 ] || fail "only ${accepted:-no} transactions accepted"
for i in 0 1 2 3; do
    grep -q '"event":"final_stats"' "$dir/run/member-$i/node.log" || fail "member $i did not stop cleanly"
done
[ "$(stat -c %s "$dir/run/member-1/output.bin")" -lt $(( $(stat -c %s "$dir/run/member-0/output.bin") / 10 )) ] ||
    fail "member 1's output is not a hash chain"

# The batch in the middle of member 2's chain file: 72-byte file header, 120 bytes a batch,
# the chain value at byte 88 of a batch (src/node/output.h).
tamper() { # file offset
    python3 -c 'import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 1]))' "$1" "$2"
}
cp -r "$dir/run" "$dir/t1"
batches=$(( ($(stat -c %s "$dir/t1/member-2/output.bin") - 72) / 120 ))
tamper "$dir/t1/member-2/output.bin" $(( 72 + (batches / 2) * 120 + 88 ))
"$aleph" analyze "$dir/t1" --no-plots > "$dir/t1.txt" 2>&1; rc=$?
[ "$rc" -eq 1 ] || fail "a changed chain value in member 2's file: analyze exit $rc, want 1"
grep -q "agreement    NO: member 2's output differs from member 0's at batch $((batches / 2))" "$dir/t1.txt" ||
    fail "no disagreement found: $(grep agreement "$dir/t1.txt")"
# member 0's first unit hash (the batch header is 120 bytes, the hash 8 bytes into the unit)
cp -r "$dir/run" "$dir/t0"
tamper "$dir/t0/member-0/output.bin" $(( 72 + 120 + 8 + 3 ))
"$aleph" analyze "$dir/t0" --no-plots > "$dir/t0.txt" 2>&1; rc=$?
[ "$rc" -eq 1 ] || fail "a changed unit hash in member 0's file: analyze exit $rc, want 1"
grep -q "agreement    NO: member 0's output is corrupt" "$dir/t0.txt" ||
    fail "no disagreement found: $(grep agreement "$dir/t0.txt")"
echo "node_local: ok ($batches_out batches, $accepted transactions; changed outputs found)"
