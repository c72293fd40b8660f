#!/usr/bin/env bash
# Long seed sweep of the simulator: `aleph sim --seeds 1000` over several configurations.
# Exits non-zero if any run of any configuration fails (the failing seeds and a rerun command
# are printed by aleph sim). Not part of ctest (tests/*.sh are); run it by hand or in CI:
#   bench/sim_sweep.sh [path/to/aleph] [seeds]
# Build it in Release first (cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release). Takes a few
# minutes on a 2-core machine with 1000 seeds.
set -u
ALEPH=${1:-build-rel/aleph}
SEEDS=${2:-1000}
MATRIX=${MATRIX:-$(dirname "$0")/../tests/data/aws-8-regions-rtt-ms.tsv}
if [ ! -x "$ALEPH" ]; then
    echo "sim_sweep: $ALEPH is not an executable (build it, or pass its path)" >&2
    exit 2
fi
status=0
run() {
    echo "== $*"
    "$ALEPH" sim --quiet --seeds "$SEEDS" "$@" || status=1
}
run --members 4 --byzantine 1 --byzantine-kind mix --rounds 30
run --members 7 --byzantine 2 --byzantine-kind mix --rounds 30 --loss 0.1 --duplicate 0.05 --reorder 50
run --members 10 --byzantine 3 --byzantine-kind mix --rounds 30 --partition 300:3000
run --members 7 --byzantine 1 --byzantine-kind forker --crashed 1 --rounds 30 --coin test
run --members 10 --byzantine 3 --byzantine-kind garbage --rounds 30 --coin off --latency "matrix:$MATRIX"
run --members 4 --rounds 30 --latency const:50
# The adversarial scheduler against both coin modes (agreement is checked on every run too).
run --members 4 --adversary 4:40 --rounds 60 --latency const:10 --coin off
run --members 7 --adversary 4:20 --rounds 40 --latency const:10 --coin threshold
# Crash-restart faults at every committee size above (src/sim/restart.h): honest members crash,
# lose what their simulated disk had not synced, and come back from the backup or, one restart
# in four, with it deleted; signed once and exactly once are checked on every run. Fewer seeds
# than the others (they cost 2-4 times a plain run): 500 + 300 + 250 + 300 runs with SEEDS =
# 1000, so at least 1,000 crash-restart runs; aleph sim prints how many restarts and lost
# backups. Forkers too: a member restarted from its backup keeps its alerts and fork
# knowledge (docs/PROTOCOL.md, "Fork alerts", across a restart); not with deleted backups,
# where the wiped member counts against f and f forkers besides may stall the committee
# (docs/BENCHMARKS.md, "Forkers with crash-restart faults").
rrun() {
    local seeds=$1
    shift
    echo "== (seeds $seeds) $*"
    "$ALEPH" sim --quiet --seeds "$seeds" "$@" || status=1
}
rrun $((SEEDS / 2)) --members 4 --byzantine 1 --byzantine-kind silent --rounds 30 --restarts 3 --backup-lost 0.25
rrun $((SEEDS * 3 / 10)) --members 7 --byzantine 1 --byzantine-kind garbage --rounds 30 --restarts 4 --backup-lost 0.25 --loss 0.05 --duplicate 0.05 --reorder 50
rrun $((SEEDS / 4)) --members 10 --byzantine 2 --byzantine-kind crash --rounds 30 --restarts 5 --backup-lost 0.25 --partition 300:3000
rrun $((SEEDS * 3 / 10)) --members 7 --byzantine 2 --byzantine-kind forker --rounds 30 --restarts 4
# The same faults across epoch boundaries (docs/PROTOCOL.md, "Epochs"; tests/test_sim_restart_epochs.c):
# a backup file per epoch on the simulated disk, two crashes in three at a boundary (in the step
# of the switch among them), restores mid-epoch, into a fresh epoch and into the epoch of a cut
# switch. Down at most 0.9 s so that a restarted member is fewer than --epochs-kept epochs
# behind; no --backup-lost (refused with epochs: a wiped member restarts in epoch 0). 400 + 200
# + 50 runs with SEEDS = 1000, about 2 minutes on the 2-core machine (docs/BENCHMARKS.md).
rrun $((SEEDS * 2 / 5)) --members 4 --byzantine 1 --byzantine-kind silent --rounds 40 --epoch-rounds 10 --restarts 3 --down-ms 100:900
rrun $((SEEDS / 5)) --members 7 --byzantine 2 --byzantine-kind crash --rounds 40 --epoch-rounds 10 --restarts 4 --down-ms 100:900 --loss 0.05
rrun $((SEEDS / 20)) --members 10 --byzantine 3 --byzantine-kind garbage --rounds 48 --epoch-rounds 16 --restarts 5 --down-ms 100:600
# Pause faults (src/sim/pause.h; docs/TESTING.md): a member's process stops 4 virtual s and
# continues (its clock stood still, everything for it comes at once: the core's resume hold
# runs), with crashes besides at N = 7 and a partition at N = 10. 100 + 50 runs with SEEDS =
# 1000, ~25 s on the 2-core machine.
rrun $((SEEDS / 10)) --members 7 --byzantine 1 --byzantine-kind silent --rounds 30 --pauses 2 --restarts 2 --loss 0.05
rrun $((SEEDS / 20)) --members 10 --byzantine 2 --byzantine-kind crash --rounds 30 --pauses 3 --partition 300:3000
exit $status
