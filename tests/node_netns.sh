#!/usr/bin/env bash
# `aleph local --hosts`: every member in its own network namespace (own address on a veth
# to a bridge), with emulated delays and a tbf bandwidth cap. Needs root and `ip netns`;
# elsewhere it says so and passes. Checks that members listened on their namespace
# addresses, agreed, and that every namespace and the bridge are gone afterwards, also
# after a run that fails once the namespaces exist.
set -u
aleph=${1:?usage: node_netns.sh PATH_TO_aleph}
if [ "$(id -u)" -ne 0 ]; then
    echo "node_netns: SKIP: not root (network namespaces need root)"
    exit 0
fi
probe="alephprobe$$"
if ! ip netns add "$probe" 2>/dev/null; then
    echo "node_netns: SKIP: 'ip netns add' does not work here"
    exit 0
fi
ip netns del "$probe"
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-node-netns.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "node_netns: FAIL: $*"; cat "$dir"/run/summary.txt 2>/dev/null; exit 1; }
leftovers() { # pid
    { ip netns list | grep "^aleph$1-"; ip -o link show | grep -E ": (alb$1|av$1x)"; } 2>/dev/null
}

"$aleph" local --members 4 --duration 5 --rate 500 --hosts --wan 20 --bandwidth 50 \
    --out "$dir/run" --json --quiet > "$dir/out.json" &
pid=$!
wait $pid
rc=$?
out=$(cat "$dir/out.json")
echo "$out"
[ "$rc" -eq 0 ] || fail "aleph local --hosts exited with status $rc"
echo "$out" | grep -q '"agreement": true' || fail "no agreement"
echo "$out" | grep -q '"network": "emulated-wan+netns"' || fail "the summary does not say emulated-wan+netns"
for i in 0 1 2 3; do
    grep -q "\"event\":\"node_started\".*\"address\":\"10\.77\.[0-9]*\.$((i + 1)):" "$dir/run/member-$i/node.log" ||
        fail "member $i did not listen on its namespace address"
done
[ -z "$(leftovers $pid)" ] || fail "namespaces or links left behind: $(leftovers $pid)"

# A run that fails after the namespaces are made (the nodes refuse an option; aleph local
# itself now refuses a bad --wan before it makes anything) cleans up.
"$aleph" local --members 4 --duration 2 --rate 100 --hosts --node-arg --no-such-node-option \
    --out "$dir/bad" --quiet > /dev/null 2>&1 &
pid=$!
wait $pid && fail "a run whose nodes refuse an option succeeded"
[ -z "$(leftovers $pid)" ] || fail "a failed run left namespaces behind: $(leftovers $pid)"
echo "node_netns: ok"
