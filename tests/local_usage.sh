#!/usr/bin/env bash
# `aleph local`'s inputs are checked before anything starts: a usage error exits 2 with one
# line naming the option, and leaves no run directory and no node behind. A matrix with more
# regions than members says which regions the run uses. Checked to fail: before these
# checks `--wan nofile` made the run directory and started a node, then exited 1, and
# `--rate -5` blamed "-5" instead of --rate.
set -u
aleph=${1:?usage: local_usage.sh PATH_TO_aleph}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-local-usage.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "local_usage: FAIL: $*"; exit 1; }
usage() { # what the message must say, then the arguments
    local want=$1; shift
    "$aleph" local --out "$dir/run" "$@" > /dev/null 2> "$dir/err"; local rc=$?
    [ "$rc" -eq 2 ] || fail "aleph local $*: exit $rc, want 2 ($(cat "$dir/err"))"
    grep -qF -- "$want" "$dir/err" || fail "aleph local $*: '$want' not in: $(cat "$dir/err")"
    [ "$(wc -l < "$dir/err")" -eq 1 ] || fail "aleph local $*: more than one line: $(cat "$dir/err")"
    [ ! -e "$dir/run" ] || fail "aleph local $*: made the run directory"
}
usage "--wan nofile: cannot open" --wan nofile
usage "--rate needs a number from 0 to" --rate -5
usage "--rate must be positive" --rate 0
usage "--coin needs one of threshold, off, got 'on'" --coin on
usage "--faulty 2 is more than a committee of 4 tolerates" --faulty 2
usage "--jitter, --loss and --bandwidth need --wan" --jitter 5
usage "unknown option '--bogus'" --bogus
usage "--members needs a whole number" --members many

# A matrix of 8 regions and 4 members: a short run says which 4 it uses.
"$aleph" local --members 4 --duration 1 --rate 50 --wan "$here/data/aws-8-regions-rtt-ms.tsv" \
    --out "$dir/wan" > /dev/null 2> "$dir/wan.err" || fail "the --wan run failed: $(cat "$dir/wan.err")"
grep -q "has 8 regions; 4 members use the first 4 (member i in region i): us-east-1, us-west-1, us-west-2, eu-west-1" \
    "$dir/wan.err" || fail "no word on the regions used: $(head -3 "$dir/wan.err")"

# aleph analyze on one member's directory speaks of that member, not of "every surviving
# member" (what aleph local checked over all of them). Checked to fail before the fix.
# Member 0 writes its full output; members 1-3 a hash chain (aleph local's default), of
# which a lone analysis cannot count transactions and says so.
"$aleph" analyze "$dir/wan/member-0" --no-plots --out "$dir/one" > "$dir/one.txt" 2>&1 || fail "analyze member-0: $(cat "$dir/one.txt")"
grep -q "delivery .*member 0 output all" "$dir/one.txt" || fail "one member's delivery line: $(grep delivery "$dir/one.txt")"
grep -q "every surviving member" "$dir/one.txt" && fail "one member's analysis claims every surviving member"
"$aleph" analyze "$dir/wan/member-1" --no-plots --out "$dir/one1" > "$dir/one1.txt" 2>&1 || fail "analyze member-1: $(cat "$dir/one1.txt")"
grep -q "delivery     not checked: member 1 wrote a hash chain" "$dir/one1.txt" ||
    fail "a chain member's delivery line: $(grep delivery "$dir/one1.txt")"
"$aleph" analyze "$dir/wan" --no-plots > "$dir/all.txt" 2>&1 || fail "analyze the run: $(cat "$dir/all.txt")"
grep -q "delivery     yes: every accepted tx output exactly once at every surviving member" "$dir/all.txt" ||
    fail "the whole run's delivery line: $(grep delivery "$dir/all.txt")"
# The plots keep their keys off the data and draw p99 (the script aleph analyze writes).
"$aleph" analyze "$dir/wan" --out "$dir/plots" > /dev/null 2>&1
grep -q "^set key outside" "$dir/plots/plots.gp" || fail "plot keys may cover the data"
grep -q "title 'p99'" "$dir/plots/plots.gp" && grep -q "'p99' at" "$dir/plots/plots.gp" ||
    fail "p99 not drawn"
echo "local_usage: ok"
