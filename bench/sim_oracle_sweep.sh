#!/usr/bin/env bash
# The ordering oracle over the sweep's configurations: for a sample of seeds of each (every
# STEP-th of 1..SEEDS), `aleph sim --dump` and tests/oracle/oracle.py, which recomputes every
# member's batches from the rules. A sample, not every seed: a dump and its check take about
# 0.3-1.5 s per run on this 2-core machine, so 1,000 seeds x 10 configurations would take over an
# hour; the default (50 seeds per configuration) takes a few minutes.
#   bench/sim_oracle_sweep.sh [path/to/aleph] [seeds] [step]
set -u
ALEPH=${1:-build/aleph}
SEEDS=${2:-1000}
STEP=${3:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
MATRIX=${MATRIX:-$HERE/../tests/data/aws-8-regions-rtt-ms.tsv}
ORACLE=$HERE/../tests/oracle/oracle.py
TMP=$(mktemp -d /tmp/aleph-oracle-sweep-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
status=0
check() {
    echo "== oracle over seeds 1..$SEEDS step $STEP: $*"
    local seed out
    for ((seed = 1; seed <= SEEDS; seed += STEP)); do
        rm -rf "$TMP/d"
        "$ALEPH" sim --quiet --seed "$seed" "$@" --dump "$TMP/d" >/dev/null || continue # sim_sweep reports it
        out=$(python3 "$ORACLE" "$TMP/d") || { echo "$out"; status=1; }
    done
}
check --members 4 --byzantine 1 --byzantine-kind mix --rounds 30
check --members 7 --byzantine 2 --byzantine-kind mix --rounds 30 --loss 0.1 --duplicate 0.05 --reorder 50
check --members 10 --byzantine 3 --byzantine-kind mix --rounds 30 --partition 300:3000
check --members 7 --byzantine 1 --byzantine-kind forker --crashed 1 --rounds 30 --coin test
check --members 10 --byzantine 3 --byzantine-kind garbage --rounds 30 --coin off --latency "matrix:$MATRIX"
check --members 4 --rounds 30 --latency const:50
# default-creator schedules (docs/PROTOCOL.md): Byzantine members listed, repeats; and derived
check --members 7 --byzantine 2 --byzantine-kind mix --rounds 30 --default-creators 6,5,0,6 --loss 0.05
check --members 8 --byzantine 2 --byzantine-kind forker --rounds 30 --latency "matrix:$MATRIX" --default-creators matrix
check --members 4 --adversary 4:40 --rounds 60 --latency const:10 --coin off
check --members 7 --adversary 4:20 --rounds 40 --latency const:10 --coin threshold
# crash-restart faults: every life of a restarted member is checked (sim_sweep.sh); every
# 4*STEP-th seed (their runs and dumps are 2-4 times larger)
STEP=$((STEP * 4))
check --members 4 --byzantine 1 --byzantine-kind silent --rounds 30 --restarts 3 --backup-lost 0.25
check --members 7 --byzantine 1 --byzantine-kind garbage --rounds 30 --restarts 4 --backup-lost 0.25 --loss 0.05 --duplicate 0.05 --reorder 50
check --members 10 --byzantine 2 --byzantine-kind crash --rounds 30 --restarts 5 --backup-lost 0.25 --partition 300:3000
# ... across epoch boundaries (a life restored into epoch e is checked from e's batch 0)
check --members 4 --byzantine 1 --byzantine-kind silent --rounds 40 --epoch-rounds 10 --restarts 3 --down-ms 100:900
check --members 7 --byzantine 2 --byzantine-kind crash --rounds 40 --epoch-rounds 10 --restarts 4 --down-ms 100:900 --loss 0.05
check --members 10 --byzantine 3 --byzantine-kind garbage --rounds 48 --epoch-rounds 16 --restarts 5 --down-ms 100:600
exit $status
