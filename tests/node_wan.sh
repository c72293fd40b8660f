#!/usr/bin/env bash
# `aleph local --wan`: the user-space link delays show up in what the members measure.
# Two regions 200 ms apart (RTT; 100 ms one way), members 0 and 2 in one, 1 and 3 in the
# other. Every link between the regions must show at least 100 ms from a unit's creation at
# its creator to its arrival at the peer (the creator's unit_created log line to the peer's
# unit_received, both on this host's clock), links inside a region far less; a quorum (3 of
# 4) always needs the other region, so consensus latency grows by at least one crossing per
# round over a loopback run of the same load.
set -u
aleph=${1:?usage: node_wan.sh PATH_TO_aleph}
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-node-wan.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "node_wan: FAIL: $*"; cat "$dir"/wan/summary.txt 2>/dev/null; exit 1; }
num() { echo "$1" | grep -o "\"$2\": [-0-9.]*" | head -1 | sed 's/.*: //'; }
sub() { echo "$1" | grep -o "\"$2\": {[^}]*}" | grep -o "\"$3\": [-0-9.]*" | sed 's/.*: //'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

printf 'region\teast\twest\neast\t0\t200\nwest\t200\t0\n' > "$dir/two-regions.tsv"

wan=$("$aleph" local --members 4 --duration 6 --rate 500 --wan "$dir/two-regions.tsv" \
      --out "$dir/wan" --json --quiet) || fail "aleph local --wan exited with status $?"
echo "$wan" | grep -q '"agreement": true' || fail "no agreement over the emulated WAN"
echo "$wan" | grep -q '"network": "emulated-wan"' || fail "the summary does not say emulated-wan"
echo "$wan" | grep -q '"wan_matrix": "two-regions.tsv"' || fail "the summary does not name the matrix"

# Per link (aleph local wrote links.csv: from,to,units,min_ms,mean_ms,p50_ms,max_ms,configured_ms)
links="$dir/wan/links.csv"
[ -s "$links" ] || fail "no links.csv"
cat "$links"
far=$(awk -F, 'NR > 1 && ($1 + $2) % 2 == 1' "$links" | wc -l)
[ "$far" -eq 8 ] || fail "expected 8 links between the regions in links.csv, found $far"
short=$(awk -F, 'NR > 1 && ($1 + $2) % 2 == 1 && ($4 < 100 || $8 != 100 || $3 < 20)' "$links")
[ -z "$short" ] || fail "a 100 ms link delivered a unit in under 100 ms (or carried few units): $short"
near=$(awk -F, 'NR > 1 && ($1 + $2) % 2 == 0 && $5 >= 100' "$links")
[ -z "$near" ] || fail "a 1 ms link looks slow: $near"

loop=$("$aleph" local --members 4 --duration 4 --rate 500 --out "$dir/loop" --json --quiet) ||
    fail "aleph local on loopback exited with status $?"
c_wan=$(sub "$wan" consensus_latency_ms p50)
c_loop=$(sub "$loop" consensus_latency_ms p50)
e_wan=$(sub "$wan" latency_ms p50)
echo "consensus latency p50: loopback $c_loop ms, emulated WAN $c_wan ms; end to end p50 over the WAN $e_wan ms"
ge "$c_wan" "$(awk -v l="$c_loop" 'BEGIN { print l + 200 }')" ||
    fail "consensus latency over the WAN ($c_wan ms) is not 200 ms above loopback ($c_loop ms)"
ge "$e_wan" 200 || fail "end-to-end latency over the WAN ($e_wan ms) is under two crossings"

# aleph analyze reads the same run back to the same figures.
again=$("$aleph" analyze "$dir/wan" --json --no-plots --out "$dir/again") || fail "aleph analyze failed"
[ "$(sub "$again" consensus_latency_ms p50)" = "$c_wan" ] || fail "aleph analyze disagrees with aleph local"
echo "node_wan: ok"
