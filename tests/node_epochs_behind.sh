#!/usr/bin/env bash
# Members several epochs behind catch up, with real `aleph node` processes (docs/PROTOCOL.md,
# "Several epochs behind"): N = 4, epochs of 20 rounds paced at 20 ms (~0.5 s an epoch), a
# light load throughout, every member keeping EPOCHS_KEPT finished epochs (8: a margin for a
# loaded machine, where the others may run on a few epochs more before the script acts).
#  1. member 0 is stopped (SIGSTOP) in its epoch e until the others are at least in e+2,
#     then continued;
#  2. member 2 is killed (kill -9) and restarted on its data dir once the others are at least
#     two epochs past its newest backup: it restores mid-epoch among peers two epochs ahead.
# Each time member 3 is stopped while the member behind catches up (see catch_up).
# Then a few transactions are submitted durably to the others. Each member behind must
# finish every epoch it missed by ordering it itself, in order, and become current: every
# output is a prefix of one sequence with no batch missing or repeated (check_outputs.py
# reads the global batch numbers across epochs), no transaction twice, every durable
# transaction in every output once; members 0 and 2 logged an epoch_started for each epoch
# they went through, counted nothing as too far ahead, and their peers answered from kept
# epochs (epoch_answers).
# A stopped member also reads, once continued, what its peers sent it before they moved on
# (TCP and the peers' send queues buffered it), so member 0 may finish its epoch from that
# alone; the killed member 2 lost it and needs the kept epochs.
# Seen to fail: with EPOCHS_KEPT=1 (one kept epoch, the rule before epochs_kept) member 2
# stays in the epoch it restored (its epoch_far_dropped grows) and the run fails on "member 2
# did not reach epoch X"; member 0 caught up there from its buffered messages.
set -u
aleph=${1:?usage: node_epochs_behind.sh PATH_TO_aleph}
here=$(cd "$(dirname "$0")" && pwd)
check="python3 $here/support/check_outputs.py"
. "$here/lib/procs.sh"
. "$here/lib/epochs.sh"
procs_run_dir behind node_epochs_behind BEHIND_KEEP
epochs_dir=$dir
fail() { echo "node_epochs_behind: FAIL: $*"; BEHIND_KEEP=1; exit 1; }
step() { echo "node_epochs_behind: [$(date +%T)] $*"; }
n=4
E=20
kept=${EPOCHS_KEPT:-8}
start() { # start MEMBER
    "$aleph" node --committee "$dir/keys/committee.json" --key "$dir/keys/member-$1.key" \
        --data-dir "$dir/m$1" --log-units off --round-delay-ms 20 --epochs-kept "$kept" \
        2>>"$dir/m$1.err" &
    pids[$1]=$!
}
last_stat() { # MEMBER FIELD: FIELD of MEMBER's last stats line
    grep '"event":"stats"' "$dir/m$1/node.log" | tail -1 | sed -n "s/.*\"$2\":\([0-9-]*\).*/\1/p"
}

base=$(free_port_base $((2 * n)))
"$aleph" keygen --members "$n" --out "$dir/keys" --base-port "$base" --client-base-port $((base + n)) \
    --epoch-rounds "$E" >/dev/null || fail "keygen"
for i in $(seq 0 $((n - 1))); do start "$i"; done
to=""
for i in $(seq 0 $((n - 1))); do to="$to${to:+,}127.0.0.1:$((base + n + i))"; done
"$aleph" load --to "$to" --rate 100 --tx-size 32 --duration 30 >"$dir/load.txt" 2>&1 &
wait_epoch 0 2

# While a member behind catches up, member 3 is stopped too: the two others cannot order
# without a third, so the committee waits in its epoch X instead of running away from the
# member behind (on a loaded machine, or with the sanitizers, catching up may take longer
# than the committee takes for K epochs); member 3 is continued once the member behind
# reached X (it then reads what its links buffered and is not behind).
reached=0
catch_up() { # MEMBER: stop member 3, continue or start MEMBER, wait until it reached the
    local x=$1 # others' epoch (set in reached; not in a subshell: start sets pids)
    kill -STOP "${pids[3]}"
    sleep 0.3 # what was in flight lands
    reached=$(newest_backup 1)
    if [ "$x" = 0 ]; then kill -CONT "${pids[0]}"; else start "$x"; fi
    wait_epoch "$x" "$reached"
    kill -CONT "${pids[3]}"
}

e0=$(newest_backup 0)
kill -STOP "${pids[0]}"
wait_epoch 1 $((e0 + 2))
catch_up 0
step "member 0 stopped in epoch $e0, continued with the others in epoch $reached, reached it"

kill -9 "${pids[2]}"
wait "${pids[2]}" 2>/dev/null
e2=$(newest_backup 2)
wait_epoch 1 $((e2 + 2))
catch_up 2
step "member 2 killed in epoch $e2, restarted with the others in epoch $reached, reached it"

for k in $(seq 1 5); do # durably acknowledged by the others while 0 and 2 catch up
    m=$(( k % 2 ? 1 : 3 ))
    out=$(timeout 30 "$aleph" submit --ack durable --to "127.0.0.1:$((base + n + m))" "behind-$k" 2>/dev/null)
    [ "$out" = durable ] && echo "behind-$k" >>"$dir/durable.txt"
done
[ -s "$dir/durable.txt" ] || fail "no durable submission"
outs=()
for i in $(seq 0 $((n - 1))); do outs+=("$dir/m$i/output.bin"); done
t=0
until $check --wait "$dir/durable.txt" "${outs[@]}" 2>/dev/null; do
    [ "$t" -lt 90 ] || fail "member 0 stays in epoch $(newest_backup 0), member 2 in $(newest_backup 2) (others in $(newest_backup 1)): not every output holds every durable transaction within 90 s"
    sleep 1
    t=$((t + 1))
done
sleep 1.5 # a stats line after catching up
for i in $(seq 0 $((n - 1))); do kill -TERM "${pids[$i]}"; done
for i in $(seq 0 $((n - 1))); do wait "${pids[$i]}" 2>/dev/null; done
$check "$dir/durable.txt" "${outs[@]}" || fail "outputs"
for i in 0 2; do
    log="$dir/m$i/node.log"
    from=$([ "$i" = 0 ] && echo "$e0" || echo "$e2")
    for e in $(seq $((from + 1)) $((from + 2))); do
        grep '"event":"epoch_started"' "$log" | grep -q "\"epoch\":$e," ||
            fail "member $i logged no epoch_started for epoch $e"
    done
    [ "$(last_stat "$i" epoch_far_dropped)" = 0 ] || fail "member $i counted messages as too far ahead"
done
for i in $(seq 0 $((n - 1))); do
    log="$dir/m$i/node.log"
    grep -q '"event":"fork_found"' "$log" && fail "member $i logged fork_found"
    grep -q '"event":"output_gap"\|"event":"output_mismatch"' "$log" && fail "member $i: output gap or mismatch"
done
answers=0
for i in 1 3; do answers=$((answers + $(last_stat "$i" epoch_answers))); done
[ "$answers" -gt 0 ] || fail "no answers from kept epochs"
echo "node_epochs_behind: ok (member 0 from epoch $e0, member 2 from $e2, both current in $(newest_backup 0)/$(newest_backup 2); $answers answers from kept epochs by members 1 and 3)"
