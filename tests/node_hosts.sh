#!/usr/bin/env bash
# A committee written by `aleph keygen --addresses` with a host name, an IPv4 literal and an
# IPv6 literal (when this machine has ::1), one member binding with `aleph node --listen`
# apart from its advertised address; four `aleph node` processes, `aleph load`, then
# `aleph analyze` on the collected directories: agreement, every transaction exactly once.
# Also the addresses file's errors (collisions, a bad host, a count that disagrees).
# Checked to fail: with --listen ignored (net_start given NULL) the member-3 check fails;
# with two members' client ports equal, keygen refuses (the first check).
set -u
aleph=${1:?usage: node_hosts.sh PATH_TO_aleph}
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-node-hosts.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "node_hosts: FAIL: $*"; tail -n 3 "$dir"/m*/node.log 2>/dev/null; exit 1; }

# Eight free loopback ports (the kernel's choice; never fixed ones).
ports=($(python3 -c '
import socket
s = [socket.socket() for _ in range(8)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))'))
[ ${#ports[@]} -eq 8 ] || fail "could not find free ports"
v6=127.0.0.1
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
    v6="[::1]"
fi

# --- the addresses file's errors: usage errors (exit 2), nothing written ---------------------
printf 'localhost:%s 9\nlocalhost:%s 9\n' "${ports[0]}" "${ports[1]}" > "$dir/clash.txt"
"$aleph" keygen --addresses "$dir/clash.txt" --out "$dir/k1" 2> "$dir/err"; rc=$?
[ "$rc" -eq 2 ] || fail "client port collision: exit $rc, want 2"
grep -q "clash.txt:2: port 9 on localhost is also used on line 1" "$dir/err" || fail "collision not named: $(cat "$dir/err")"
[ ! -e "$dir/k1" ] || fail "keygen wrote files for a bad addresses file"
printf 'bad_host!:1000\n' > "$dir/badhost.txt"
"$aleph" keygen --addresses "$dir/badhost.txt" --out "$dir/k2" 2> "$dir/err"; rc=$?
[ "$rc" -eq 2 ] && grep -q "badhost.txt:1: 'bad_host!' is not a host name" "$dir/err" || fail "bad host: $(cat "$dir/err")"
printf '::1:1000\n' > "$dir/v6bare.txt"
"$aleph" keygen --addresses "$dir/v6bare.txt" --out "$dir/k2" 2> "$dir/err"; rc=$?
[ "$rc" -eq 2 ] || fail "an IPv6 literal without brackets was accepted"
printf 'localhost:1000\nlocalhost:1002\n' > "$dir/two.txt"
"$aleph" keygen --addresses "$dir/two.txt" --members 3 --out "$dir/k2" 2> "$dir/err"; rc=$?
[ "$rc" -eq 2 ] && grep -q "lists 2 members" "$dir/err" || fail "count mismatch: $(cat "$dir/err")"

# --- a committee over names and literals -----------------------------------------------------
# Member 3 advertises 127.0.0.1 but binds 0.0.0.0 (--listen): as behind NAT, where the
# advertised address is not one of the host's own.
cat > "$dir/addresses.txt" <<ADDR
# member addresses, client ports alongside
localhost:${ports[0]} ${ports[4]}
127.0.0.1:${ports[1]} ${ports[5]}
$v6:${ports[2]} ${ports[6]}
127.0.0.1:${ports[3]} ${ports[7]}
ADDR
"$aleph" keygen --addresses "$dir/addresses.txt" --out "$dir/keys" > /dev/null || fail "keygen --addresses failed"
grep -q "\"address\": \"localhost:${ports[0]}\"" "$dir/keys/committee.json" || fail "name not kept in the committee file"
grep -qF "\"address\": \"$v6:${ports[2]}\"" "$dir/keys/committee.json" || fail "IPv6 literal not kept"
grep -q "\"client_port\": ${ports[7]}" "$dir/keys/committee.json" || fail "client port not taken from the file"

for i in 0 1 2 3; do
    extra=()
    [ "$i" -eq 3 ] && extra=(--listen "0.0.0.0:${ports[3]}")
    [ "$i" -eq 2 ] && [ "$v6" = "[::1]" ] && extra=(--client-host ::1)
    "$aleph" node --committee "$dir/keys/committee.json" --key "$dir/keys/member-$i.key" \
        --data-dir "$dir/member-$i" "${extra[@]}" 2> "$dir/node-$i.err" &
    pids+=($!)
done
# Wait until every client port answers (the members start in parallel, on a loaded machine).
python3 - "${ports[4]}" "${ports[5]}" "${ports[7]}" <<'PY' || fail "client ports not open after 60 s: $(cat "$dir"/node-*.err)"
import socket, sys, time
deadline = time.time() + 60
for p in sys.argv[1:]:
    while True:
        try:
            socket.create_connection(("127.0.0.1", int(p)), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline:
                sys.exit(1)
            time.sleep(0.1)
PY
to="127.0.0.1:${ports[4]},127.0.0.1:${ports[5]},127.0.0.1:${ports[7]}"
"$aleph" load --to "$to" --rate 300 --duration 4 --tx-size 64 --subscribe --records "$dir/load.json" \
    > "$dir/load.out" 2>&1 || fail "aleph load failed: $(cat "$dir/load.out")"
# The subscription (to the first target's ordered output) saw the load's transactions ordered
# (seen to fail without --subscribe).
seen=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("ordered_seen", 0))' "$dir/load.json")
[ "$seen" -gt 0 ] || fail "the subscriber saw none of the load's transactions ordered: $(cat "$dir/load.out")"
sleep 2
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p" || fail "a node exited with an error: $(cat "$dir"/node-*.err)"; done
pids=()
grep -q "\"address\":\"127.0.0.1:${ports[3]}\",\"listen\":\"0.0.0.0:${ports[3]}\"" "$dir/member-3/node.log" || fail "member 3 did not bind its --listen address"
"$aleph" analyze "$dir" --no-plots > "$dir/summary.txt" 2>&1; rc=$?
cat "$dir/summary.txt"
[ "$rc" -eq 0 ] || fail "aleph analyze exit $rc"
grep -qi "agreement *yes\|agreement: *yes" "$dir/summary.txt" || fail "no agreement in the summary"
echo "node_hosts: ok"
