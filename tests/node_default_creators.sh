#!/usr/bin/env bash
# The default-creator schedule through real processes: `aleph local --default-creators 2,3`
# deals a committee file carrying it (hashed into the session id), the nodes read it, and the
# heads follow it: with every member honest most rounds' head is the unit of L[r mod 2] (r mod
# N would give creators 2 and 3 only half the rounds, each 1 in 4). Also: the members agree
# and output every accepted transaction once (aleph local checks that and exits non-zero
# otherwise), and a schedule naming a member outside the committee is a usage error.
# Checked to fail: with the node not passing the committee's schedule to the core (node.c),
# the heads are r mod N and the share check below fails (about 50%, not >= 80%).
set -u
aleph=${1:?usage: node_default_creators.sh PATH_TO_aleph}
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-node-schedule.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "node_default_creators: FAIL: $*"; cat "$dir"/run/summary.txt 2>/dev/null; exit 1; }

"$aleph" local --members 4 --duration 1 --default-creators 4 --out "$dir/bad" --quiet \
    >/dev/null 2>&1
[ $? -eq 2 ] || fail "a schedule naming member 4 of 4 was not a usage error"

out=$("$aleph" local --members 4 --duration 6 --rate 1000 --tx-size 256 \
    --default-creators 2,3 --out "$dir/run" --json --quiet)
rc=$?
[ "$rc" -eq 0 ] || fail "aleph local exited with status $rc"
echo "$out" | grep -q '"agreement": true' || fail "no agreement"
echo "$out" | grep -q '"exactly_once": true' || fail "not exactly once"
grep -q '"default_creators"' "$dir/run/committee.json" || fail "the committee file has no schedule"
grep -q '"default_creators":2' "$dir/run/member-0/node.log" || fail "node 0 did not take the schedule"
# Head creators from member 0's output (src/node/output.h, version 2: a 72-byte file header,
# 120-byte batch headers, then the units in full mode).
python3 - "$dir/run/member-0/output.bin" <<'EOF' || fail "heads do not follow the schedule"
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"ALEPHOUT" and struct.unpack_from("<I", b, 8)[0] == 2, "not an output file v2"
(mode,) = struct.unpack_from("<I", b, 32)
off, total, scheduled = 72, 0, 0
while off + 120 <= len(b):
    (magic,) = struct.unpack_from("<I", b, off)
    assert magic == 0x48435442, "bad batch magic"
    rnd, creator = struct.unpack_from("<II", b, off + 20)
    (count,) = struct.unpack_from("<I", b, off + 72)
    off += 120
    for _ in range(count if mode == 0 else 0):
        (plen,) = struct.unpack_from("<I", b, off + 40)
        off += 44 + plen
    total += 1
    scheduled += creator == [2, 3][rnd % 2]
print("node_default_creators: %d of %d heads by the scheduled creator" % (scheduled, total))
sys.exit(0 if total >= 20 and scheduled * 5 >= total * 4 else 1)
EOF
# With a --wan matrix file the schedule defaults to the one derived from the matrix, and
# --default-creators rotation keeps r mod N (no schedule in the committee file). Checked to
# fail: with cmd_local.c's default_creators_choose returning at once.
matrix="$(cd "$(dirname "$0")" && pwd)/data/aws-8-regions-rtt-ms.tsv"
for sched in default rotation; do
    extra=()
    [ "$sched" = rotation ] && extra=(--default-creators rotation)
    "$aleph" local --members 4 --duration 1 --rate 200 --wan "$matrix" "${extra[@]}" \
        --out "$dir/wan-$sched" --quiet >/dev/null 2>&1 || fail "the --wan run ($sched) failed"
    has=0
    grep -q '"default_creators"' "$dir/wan-$sched/committee.json" && has=1
    [ "$sched" = default ] && [ "$has" -ne 1 ] && fail "--wan FILE did not default to the matrix schedule"
    [ "$sched" = rotation ] && [ "$has" -ne 0 ] && fail "--default-creators rotation left a schedule"
done
echo "node_default_creators: ok"
