#!/usr/bin/env bash
# `aleph node --config FILE`: the file holds node options (JSON, keys with '_'), flags
# override it, --print-config prints the effective configuration (which loads back as a
# config file, unchanged), and a bad file or flag is a usage error (exit 2) naming the key or
# option. Then a one-member committee runs from a config file alone and its log shows the
# file's values. Checked to fail: with the flags applied before the file (the two passes
# swapped), the override check fails.
set -u
aleph=${1:?usage: node_config.sh PATH_TO_aleph}
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-node-config.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "node_config: FAIL: $*"; exit 1; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

cat > "$dir/node.json" <<JSON
{"committee": "$dir/keys/committee.json", "key": "$dir/keys/member-0.key",
 "data_dir": "$dir/data", "round_delay_ms": 25, "log_level": "warn", "log_units": "off"}
JSON
"$aleph" node --config "$dir/node.json" --round-delay-ms 30 --print-config > "$dir/effective.json" ||
    fail "--print-config failed"
[ "$(field "$dir/effective.json" round_delay_ms)" = 30 ] || fail "the flag did not override the file"
[ "$(field "$dir/effective.json" log_level)" = warn ] || fail "the file's log_level not applied"
[ "$(field "$dir/effective.json" anti_entropy_ms)" = 200 ] || fail "defaults missing from --print-config"
[ "$(field "$dir/effective.json" data_dir)" = "$dir/data" ] || fail "data_dir not shown"
"$aleph" node --config "$dir/effective.json" --print-config > "$dir/again.json" || fail "the printed configuration does not load"
cmp -s "$dir/effective.json" "$dir/again.json" || fail "the printed configuration changed on reloading"

expect2() { # what-the-message-names, args...
    local want=$1; shift
    "$aleph" node "$@" > /dev/null 2> "$dir/err"; local rc=$?
    [ "$rc" -eq 2 ] || fail "aleph node $*: exit $rc, want 2"
    grep -q -- "$want" "$dir/err" || fail "aleph node $*: message does not name $want: $(cat "$dir/err")"
}
echo '{"round_delay_ms": -5}' > "$dir/neg.json"
expect2 '"round_delay_ms" must be a whole number' --config "$dir/neg.json" --print-config
echo '{"round_dalay_ms": 5}' > "$dir/typo.json"
expect2 'unknown key "round_dalay_ms"' --config "$dir/typo.json" --print-config
echo '{"round_delay_ms": 5,' > "$dir/broken.json"
expect2 'broken.json: line' --config "$dir/broken.json" --print-config
expect2 'no-such.json' --config "$dir/no-such.json" --print-config
expect2 -- "--round-delay-ms needs a whole number from 0 to 600000, got '-5'" --round-delay-ms -5 --print-config
expect2 -- "--log-level needs one of debug, info, warn, error" --log-level loud --print-config
expect2 "unknown option '--bogus'" --bogus
expect2 "--committee and --key are required" --round-delay-ms 5

# A one-member committee from the config file alone (its own free port from the kernel).
ports=($(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))'))
echo "127.0.0.1:${ports[0]} ${ports[1]}" > "$dir/addresses.txt"
"$aleph" keygen --addresses "$dir/addresses.txt" --out "$dir/keys" > /dev/null || fail "keygen"
"$aleph" node --config "$dir/node.json" --log-level info 2> "$dir/node.err" &
pid=$!
for _ in $(seq 1 100); do
    grep -q '"event":"node_started"' "$dir/data/node.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || fail "the node exited: $(cat "$dir/node.err")"
    sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || fail "the node did not stop cleanly: $(cat "$dir/node.err")"
pid=
grep -q '"event":"node_started".*"round_delay_ms":25' "$dir/data/node.log" || fail "the file's round_delay_ms not used"
grep -q "WARNING" "$dir/node.err" && fail "a warning for a key of mode 0600: $(cat "$dir/node.err")"

# A key file others can read: the node says so (as ssh does) and names the file and the fix.
chmod 644 "$dir/keys/member-0.key"
rm -rf "$dir/data"
"$aleph" node --config "$dir/node.json" 2> "$dir/node.err" &
pid=$!
for _ in $(seq 1 100); do
    grep -q "accessible by others" "$dir/node.err" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -TERM "$pid" 2>/dev/null
wait "$pid"
pid=
grep -q "WARNING: key file $dir/keys/member-0.key is accessible by others (mode 0644).*chmod 600" "$dir/node.err" ||
    fail "no warning for a key of mode 0644: $(cat "$dir/node.err")"

# A start that fails (its member port taken) leaves nothing that blocks a retry: once the
# port is free, the same command starts.
rm -rf "$dir/data"
python3 - "${ports[0]}" "$aleph" "$dir" <<'PY' || fail "a failed start: see above"
import socket, subprocess, sys
port, aleph, d = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen()
r = subprocess.run([aleph, "node", "--config", d + "/node.json"], capture_output=True, text=True, timeout=60)
s.close()
if r.returncode != 1 or "cannot listen" not in r.stderr:
    print("expected a failed start, got", r.returncode, r.stderr); sys.exit(1)
PY
"$aleph" node --config "$dir/node.json" 2> "$dir/retry.err" &
pid=$!
for _ in $(seq 1 100); do
    [ "$(grep -c '"event":"node_started"' "$dir/data/node.log" 2>/dev/null)" -ge 1 ] &&
        grep -q '"event":"stats"' "$dir/data/node.log" && break
    kill -0 "$pid" 2>/dev/null || fail "the retry after a failed start exited: $(cat "$dir/retry.err")"
    sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || fail "the retry did not run and stop cleanly: $(cat "$dir/retry.err")"
pid=
echo "node_config: ok"
