#!/usr/bin/env bash
# `aleph local` stopped by Ctrl-C (SIGINT) during the load: exit 130, and the figures are over
# the window the load really ran (the duration recorded is the real one, the steady window
# lies inside it), so the throughput is about the offered rate rather than a fraction of it.
# Checked to fail: with the planned window (60 s) a run stopped after a few seconds reported
# ~100 tx/s for 1,000 offered and window_s 48.
set -u
aleph=${1:?usage: local_interrupt.sh PATH_TO_aleph}
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-local-interrupt.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "local_interrupt: FAIL: $*"; exit 1; }
"$aleph" local --members 4 --rate 1000 --duration 60 --tx-size 64 --out "$dir/run" --json --quiet \
    > "$dir/out.json" 2> "$dir/err" &
pid=$!
for _ in $(seq 1 300); do [ -f "$dir/run/run.json" ] && break; sleep 0.1; done
[ -f "$dir/run/run.json" ] || fail "the load never started: $(cat "$dir/err")"
sleep 4
kill -INT "$pid"
wait "$pid"; rc=$?
pid=
[ "$rc" -eq 130 ] || fail "exit $rc after SIGINT, want 130: $(cat "$dir/err")"
python3 - "$dir/out.json" <<'PY' || fail "figures: $(cat "$dir/out.json" | head -c 600)"
import json, sys
s = json.load(open(sys.argv[1]))
d, w, t, o = s["duration_s"], s["window_s"], s["throughput_tx_s"], s["offered_tx_s"]
print(f"duration {d:.1f} s, window {w:.1f} s, throughput {t:.0f} of {o:.0f} tx/s offered")
assert s["agreement"] is True, "no agreement"
assert s["interrupted"] is True, "not marked interrupted"
assert d < 30, "the duration is the planned one"
assert 0 < w <= d, "the window is not inside the load"
assert t > 0.5 * o, "throughput over a window the load did not fill"
PY
echo "local_interrupt: ok"
