#!/usr/bin/env bash
# Two `aleph local` runs started at the same moment never collide: each holds a lock on its
# port range for its lifetime, so both pass, on different ranges. --base-port puts a run where
# asked, and a range held by a running one is refused (exit 1, saying so) before anything
# starts. Checked to fail: without the locks (local_reserve_ports only probing the ports) the
# two runs chose the same base port and one failed to bind.
set -u
aleph=${1:?usage: local_ports.sh PATH_TO_aleph}
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-local-ports.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "local_ports: FAIL: $*"; exit 1; }

"$aleph" local --members 4 --duration 3 --rate 200 --out "$dir/a" --quiet --json > "$dir/a.json" 2> "$dir/a.err" &
pids+=($!)
"$aleph" local --members 4 --duration 3 --rate 200 --out "$dir/b" --quiet --json > "$dir/b.json" 2> "$dir/b.err" &
pids+=($!)
wait "${pids[0]}"; ra=$?
wait "${pids[1]}"; rb=$?
pids=()
[ "$ra" -eq 0 ] || fail "run a exited $ra: $(cat "$dir/a.err")"
[ "$rb" -eq 0 ] || fail "run b exited $rb: $(cat "$dir/b.err")"
pa=$(grep -o '"address": "127.0.0.1:[0-9]*"' "$dir/a/committee.json" | head -1)
pb=$(grep -o '"address": "127.0.0.1:[0-9]*"' "$dir/b/committee.json" | head -1)
[ "$pa" != "$pb" ] || fail "both runs used $pa"

# --base-port: where asked; a range in use is refused before anything starts.
base=$(python3 -c '
import socket
for b in range(40000, 60000, 64):
    try:
        s = [socket.socket() for _ in range(8)]
        for i, x in enumerate(s): x.bind(("127.0.0.1", b + i))
        print(b); break
    except OSError:
        pass')
"$aleph" local --members 4 --duration 4 --rate 100 --base-port "$base" --out "$dir/c" --quiet > /dev/null 2> "$dir/c.err" &
pids+=($!)
for _ in $(seq 1 100); do [ -f "$dir/c/committee.json" ] && break; sleep 0.1; done
grep -q "\"address\": \"127.0.0.1:$base\"" "$dir/c/committee.json" || fail "--base-port $base not used"
"$aleph" local --members 4 --duration 2 --rate 100 --base-port "$base" --out "$dir/d" --quiet > /dev/null 2> "$dir/d.err"
rd=$?
[ "$rd" -eq 1 ] || fail "a second run on a held range exited $rd, want 1"
grep -q "ports $base-$((base + 7)) (--base-port) are in use" "$dir/d.err" || fail "no clear message: $(cat "$dir/d.err")"
[ ! -e "$dir/d" ] || fail "the refused run made its run directory"
wait "${pids[0]}" || fail "the --base-port run failed: $(cat "$dir/c.err")"
pids=()
"$aleph" local --members 4 --base-port 65530 --out "$dir/e" > /dev/null 2> "$dir/e.err"
[ $? -eq 2 ] && grep -q "past 65535" "$dir/e.err" || fail "a range past 65535 is not a usage error"
echo "local_ports: ok"
