#!/usr/bin/env bash
# The fast path in the simulator (virtual time: deterministic, unaffected by machine load):
# heads decided at d=2 and consensus latency over a latency model, for several committee
# sizes, creator waits and default-creator schedules. One line per run:
#   N  latency  parent-wait  candidate-wait  creators  d2%  consensus-p50  consensus-mean  e2e-p50
# Usage: bench/sim_fast_path.sh [path/to/aleph]; env SIZES ("8 16 32 128"), WAITS
# (candidate waits, "0 30"), PARENT_WAITS ("0"), CREATORS ("none matrix": r mod N, or the
# schedule derived from the matrix, `aleph sim --default-creators`), LATENCY
# (matrix:tests/data/...), ROUNDS (100).
set -eu
ALEPH=${1:-build/aleph}
here=$(cd "$(dirname "$0")/.." && pwd)
SIZES=${SIZES:-8 16 32 128}
WAITS=${WAITS:-0 30}
PARENT_WAITS=${PARENT_WAITS:-0}
CREATORS=${CREATORS:-none matrix}
ROUNDS=${ROUNDS:-100}
LATENCY=${LATENCY:-matrix:$here/tests/data/aws-8-regions-rtt-ms.tsv}
printf '%-5s %-10s %-6s %-6s %-8s %-6s %-8s %-8s %-8s\n' N latency pwait cwait creators d2% cons_p50 cons_avg e2e_p50
for n in $SIZES; do
    for pw in $PARENT_WAITS; do
        for w in $WAITS; do
          for dc in $CREATORS; do
            flag=()
            [ "$dc" = none ] || flag=(--default-creators "$dc")
            "$ALEPH" sim --members "$n" --rounds "$ROUNDS" --latency "$LATENCY" --json \
                --parent-wait-ms "$pw" --candidate-wait-ms "$w" "${flag[@]}" |
                python3 -c '
import json, sys
j = json.load(sys.stdin)
h = j["heads_at_depth"]; total = sum(h.values()) or 1
lat = sys.argv[2].split("/")[-1] if sys.argv[2].startswith("matrix:") else sys.argv[2]
print("%-5s %-10s %-6s %-6s %-8s %-6.1f %-8.0f %-8.1f %-8.0f%s" % (sys.argv[1], lat[:10], sys.argv[3], sys.argv[4], sys.argv[5],
      100.0 * h["2"] / total, j["consensus_latency_ms"]["p50"], j["consensus_latency_ms"]["mean"],
      j["latency_ms"]["p50"], "" if j["ok"] else "  FAILED"))' "$n" "$LATENCY" "$pw" "$w" "$dc"
          done
        done
    done
done
