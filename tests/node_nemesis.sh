#!/usr/bin/env bash
# The nemesis: real `aleph node` processes on loopback under load, with a seeded schedule of
# faults: kill -9 and a restart from the backup; SIGSTOP / SIGCONT; kill -9, the data dir
# deleted, a restart that must refuse (a peer holds newer units of its key) and one with
# --recover; more than f members killed at once and restarted. Durable submissions
# (`aleph submit --ack durable`) run throughout. At the end: every output is a prefix of one
# sequence, no transaction twice, every durably acknowledged transaction in every member's
# output exactly once (so every member is current), and no fork_found in any log.
# The member whose data dir was deleted is the exception to "current": its peers have shed
# (freed) the ordered units it would need to order from the start again (PROTOCOL.md, "Long
# runs"), so until epochs bring a fresh start it may not get back into the output; its
# output is checked to be a prefix, it must never sign a second unit for a round (no
# fork_found), and it is kept out of the f+1 killed at once.
#
# usage: node_nemesis.sh PATH_TO_aleph [MEMBERS...]   (default: 4 7; NEMESIS_SEED=S replays)
# Seen to fail: with the own check off in node.c (cfg->own_check = 0), the member restarted
# on a deleted data dir does not refuse: it runs on with the key (timeout, exit 124).
set -u
aleph=${1:?usage: node_nemesis.sh PATH_TO_aleph [MEMBERS...]}
shift
sizes=${*:-4 7}
here=$(cd "$(dirname "$0")" && pwd)
check="python3 $here/support/check_outputs.py"
. "$here/lib/procs.sh"
seed=${NEMESIS_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$seed
echo "node_nemesis: seed $seed (rerun: NEMESIS_SEED=$seed bash $0 $aleph $sizes)"
procs_run_dir nemesis node_nemesis NEMESIS_KEEP
fail() { echo "node_nemesis: FAIL (seed $seed, N=$n): $*"; NEMESIS_KEEP=1; exit 1; }
step() { echo "node_nemesis: [$(date +%T)] N=$n: $*"; }

start() { # start MEMBER [extra flags]
    local i=$1
    shift
    "$aleph" node --committee "$run/keys/committee.json" --key "$run/keys/member-$i.key" \
        --data-dir "$run/m$i" --log-units off "$@" 2>>"$run/m$i.err" &
    pids[$i]=$!
}

# Acknowledgements are recorded per member (durable-M.txt): a member whose data dir is deleted
# loses what only its disk held, so what it acknowledged before the deletion is set apart
# (wiped-durable.txt: may be output, at most once, but need not be). The submitter leaves a
# member alone while paused-M exists and says in busy-W which member it is waiting on, so the
# set-apart list is complete before the kill.
durable_submitter() { # submits "nem-S-W-K" lines, one at a time, to random live members
    local w=$1 k=0 m out
    while [ -e "$run/submitting" ]; do
        m=$(( RANDOM % n ))
        if [ -e "$run/paused-$m" ]; then sleep 0.1; continue; fi
        echo "$m" >"$run/busy-$w"
        k=$((k + 1))
        out=$(timeout 20 "$aleph" submit --ack durable --to "127.0.0.1:$((base + n + m))" \
              "nem-$seed-$w-$k" 2>/dev/null)
        [ "$out" = durable ] && echo "nem-$seed-$w-$k" >>"$run/durable-$m.txt"
        rm -f "$run/busy-$w"
        [ -n "$out" ] || sleep 0.2
    done
}

pause_submitters() { # pause_submitters MEMBER: returns once no submitter waits on MEMBER
    touch "$run/paused-$1"
    local t=0
    while grep -qx "$1" "$run"/busy-* 2>/dev/null && [ "$t" -lt 300 ]; do sleep 0.1; t=$((t + 1)); done
}

run_one() {
    n=$1
    f=$(( (n - 1) / 3 ))
    run="$dir/n$n"
    mkdir -p "$run"
    base=$(free_port_base $((2 * n)))
    "$aleph" keygen --members "$n" --out "$run/keys" --base-port "$base" \
        --client-base-port $((base + n)) >/dev/null || fail "keygen"
    for i in $(seq 0 $((n - 1))); do start "$i"; done
    sleep 2
    touch "$run/submitting"
    local to=""
    for i in $(seq 0 $((n - 1))); do to="$to${to:+,}127.0.0.1:$((base + n + i))"; done
    "$aleph" load --to "$to" --rate 300 --tx-size 64 --duration 40 >"$run/load.txt" 2>&1 &
    durable_submitter 1 &
    durable_submitter 2 &
    # The schedule, drawn from the seed.
    local a=$(( RANDOM % n )) b c
    b=$(( (a + 1 + RANDOM % (n - 1)) % n ))
    c=$(( (b + 1 + RANDOM % (n - 1)) % n ))
    [ "$c" = "$a" ] && c=$(( (c + 1) % n ))
    [ "$c" = "$b" ] && c=$(( (c + 1) % n ))
    local down=() k=$a
    while [ "${#down[@]}" -le "$f" ]; do # f+1 members, not c
        [ "$k" != "$c" ] && down+=("$k")
        k=$(( (k + 1) % n ))
    done
    step "schedule: kill -9 $a + restart from backup; SIGSTOP $b 4 s; kill -9 $c + delete its data dir + refused restart + --recover; kill -9 ${down[*]} at once (f+1 = $((f + 1))) + restart"
    sleep 3
    step "kill -9 member $a"; kill -9 "${pids[$a]}"; wait "${pids[$a]}" 2>/dev/null
    sleep 2
    step "restart member $a from its backup"; start "$a"
    sleep 3
    step "SIGSTOP member $b"; kill -STOP "${pids[$b]}"
    sleep 4
    step "SIGCONT member $b"; kill -CONT "${pids[$b]}"
    sleep 2
    pause_submitters "$c"
    step "kill -9 member $c, delete its data dir"; kill -9 "${pids[$c]}"; wait "${pids[$c]}" 2>/dev/null
    rm -rf "$run/m$c"
    [ -e "$run/durable-$c.txt" ] && mv "$run/durable-$c.txt" "$run/wiped-durable.txt"
    rm -f "$run/paused-$c"
    sleep 1
    step "restart member $c without --recover: must refuse"
    timeout 60 "$aleph" node --committee "$run/keys/committee.json" --key "$run/keys/member-$c.key" \
        --data-dir "$run/m$c" --log-units off 2>"$run/refusal.txt"
    local rc=$?
    [ "$rc" -eq 1 ] || fail "member $c with a deleted data dir exited with $rc, not 1 (refusal)"
    grep -q "refusing to create units" "$run/refusal.txt" || fail "no refusal line: $(cat "$run/refusal.txt")"
    [ "$(wc -l <"$run/refusal.txt")" -eq 1 ] || fail "the refusal is not one line"
    step "refused: $(cut -c1-120 "$run/refusal.txt")..."
    step "restart member $c with --recover"; start "$c" --recover
    sleep 4
    step "kill -9 members ${down[*]} at once"
    for i in "${down[@]}"; do kill -9 "${pids[$i]}"; done
    for i in "${down[@]}"; do wait "${pids[$i]}" 2>/dev/null; done
    sleep 3
    step "restart members ${down[*]} from their backups"
    for i in "${down[@]}"; do start "$i"; done
    sleep 6
    rm -f "$run/submitting"
    # every member current: each output holds every durable transaction (generous deadline)
    local w=0
    while ls "$run"/busy-* >/dev/null 2>&1 && [ "$w" -lt 300 ]; do sleep 0.1; w=$((w + 1)); done
    cat "$run"/durable-*.txt >"$run/durable.txt" 2>/dev/null
    local outs=()
    for i in $(seq 0 $((n - 1))); do [ "$i" != "$c" ] && outs+=("$run/m$i/output.bin"); done
    local t=0
    sleep 5
    while ! $check --wait "$run/durable.txt" "${outs[@]}" 2>/dev/null; do
        t=$((t + 1))
        [ "$t" -gt 120 ] && break
        sleep 1
    done
    for i in $(seq 0 $((n - 1))); do kill -TERM "${pids[$i]}" 2>/dev/null; done
    for i in $(seq 0 $((n - 1))); do wait "${pids[$i]}" 2>/dev/null; done
    for p in $(jobs -p); do kill "$p" 2>/dev/null; done # load and submitters
    wait 2>/dev/null
    step "durable transactions: $(wc -l <"$run/durable.txt"); member $c (data dir deleted, --recover): $(grep '"event":"stats"' "$run/m$c/node.log" | tail -1 | grep -o '"round_created":[-0-9]*,"round_ordered":[-0-9]*')"
    [ "$(wc -l <"$run/durable.txt")" -ge 10 ] || fail "fewer than 10 durable acknowledgements"
    if grep -l '"fork_found"' "$run"/m*/node.log; then fail "fork_found in a log"; fi
    $check "$run/durable.txt" "${outs[@]}" --prefix "$run/m$c/output.bin" || fail "outputs"
    rm -rf "$run"
}

for n in $sizes; do run_one "$n"; done
echo "node_nemesis: ok (seed $seed, sizes $sizes)"
