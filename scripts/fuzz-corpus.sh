#!/usr/bin/env bash
# Writes the fuzzers' seed corpus (fuzz/corpus/<target>) from simulator runs and a short
# `aleph local` run: real units, requests, anti-entropy and fork alerts as honest members
# sent them (aleph sim --dump), real handshakes, backups and output files.
#   scripts/fuzz-corpus.sh [path/to/aleph]
# The simulator runs use seed 7 and N = 4: the fuzz targets that check signatures use that
# run's keys and session (fuzz/fuzz_support.h: sim_keys_deal), so its messages get past them.
#   fuzz_unit, fuzz_alert   one message each (they take the session from their input)
#   fuzz_member             one message each (mode byte 2: threshold coin, then sender, u16
#                           length, bytes), and the honest run's units in the order sent, to
#                           an observer (mode 6): its DAG grows and it orders batches
#   fuzz_backup             those units as backup records (fuzz_backup.c's framing), the
#                           forker run's units, alerts and certificates as records, and the
#                           start of member 0's real backup file of the local run
#   fuzz_framing            the run's messages framed as on a connection, under each limit
#   fuzz_handshake          real hellos of the run's session and auths (accept and dial)
#   fuzz_output             the start of member 0's output file of the local run, in pieces
#   fuzz_client             submits (probe transactions of the local run's size), durable
#                           acknowledgements, a subscribe, empty and oversized frames
# Dictionaries (fuzz/<target>.dict) are checked in by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
aleph=${1:-build/aleph}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$aleph" sim --members 4 --byzantine 1 --byzantine-kind forker --rounds 12 --seed 7 \
    --dump "$tmp/run" >/dev/null
"$aleph" sim --members 4 --rounds 12 --seed 7 --dump "$tmp/honest" >/dev/null
"$aleph" local --members 4 --duration 2 --rate 100 --tx-size 64 --out "$tmp/local" --quiet \
    >/dev/null 2>&1 || echo "fuzz-corpus: the local run failed; output and backup seeds from what it wrote"
targets="fuzz_unit fuzz_alert fuzz_member fuzz_backup fuzz_framing fuzz_handshake fuzz_output
    fuzz_client"
for t in $targets; do rm -rf "fuzz/corpus/$t"; mkdir -p "fuzz/corpus/$t"; done
python3 - "$tmp" <<'PY'
import glob, json, os, struct, sys
tmp = sys.argv[1]
out = lambda t, name, data: open(f"fuzz/corpus/{t}/{name}", "wb").write(data)
def messages(run):
    files = glob.glob(f"{tmp}/{run}/messages/*.bin")
    key = lambda f: tuple(int(x) for x in os.path.basename(f)[:-4].split("-"))
    return [(os.path.basename(f)[:-4], open(f, "rb").read()) for f in sorted(files, key=key)]
for name, msg in messages("run"):
    kind = msg[0]
    if kind == 1: out("fuzz_unit", f"unit-{name}", msg[1:])
    if kind in (9, 11): out("fuzz_alert", f"alert-{name}", msg[1:])
    if len(msg) <= 0xFFFF:
        out("fuzz_member", f"msg-{name}", b"\x02\x01" + struct.pack("<H", len(msg)) + msg)
units = [msg for _, msg in messages("honest") if msg[0] == 1]  # in the order sent: causal
out("fuzz_member", "replay-units", b"\x06" + b"".join(
    b"\x01" + struct.pack("<H", len(u)) + u for u in units))
out("fuzz_backup", "units", b"\x01\x00" + b"".join(
    b"\x01" + struct.pack("<H", len(u) - 1) + u[1:] for u in units))
out("fuzz_backup", "units-half", b"\x01\x00" + b"".join(
    b"\x01" + struct.pack("<H", len(u) - 1) + u[1:] for u in units[: len(units) // 2]))
# The forker run's units, alerts and certificates as backup records (kinds 1, 3, 4), each once,
# in the order sent: the alert restore (aleph_member_restore_record) gets real alerts.
kinds, seen, recs = {1: 1, 9: 3, 11: 4}, set(), b""
for _, m in messages("run"):
    if m[0] in kinds and m not in seen and len(m) - 1 <= 0xFFFF:
        seen.add(m)
        recs += bytes([kinds[m[0]]]) + struct.pack("<H", len(m) - 1) + m[1:]
out("fuzz_backup", "units-alerts", b"\x01\x00" + recs)
backup = glob.glob(f"{tmp}/local/*0/backup-0.bin") + glob.glob(f"{tmp}/local/**/backup-0.bin", recursive=True)
if backup: out("fuzz_backup", "local-backup", b"\x00" + open(backup[0], "rb").read()[:20000])
frames = b"".join(struct.pack("<I", len(m)) + m for _, m in messages("run")[:24])
for i, limit in enumerate(("0", "1", "128", "4096", "65536", "1M")):
    out("fuzz_framing", f"messages-limit-{limit}", bytes([i, 0, 7, 1, 2, 3]) + frames)
out("fuzz_framing", "messages-stop-3", bytes([5, 3, 9, 9, 9, 9]) + frames)
session = int(json.load(open(f"{tmp}/run/header.json"))["session"])
hello = b"ALPH" + b"\x01" + struct.pack("<Q", session) + bytes(range(32))
frame = lambda b: struct.pack("<I", len(b)) + b
auth = lambda signer, target: struct.pack("<II", signer, target) + bytes(64)
for own in range(4):
    for signer in range(4):
        for sign in (0, 8):  # accept: the peer dials (lower index)
            flags = own << 1 | sign
            out("fuzz_handshake", f"accept-{own}-from-{signer}-{sign}",
                bytes([flags, 63]) + frame(hello) + frame(auth(signer, own)))
    dialed = own + 1 if own + 1 < 4 else 0
    out("fuzz_handshake", f"dial-{own}", bytes([1 | own << 1 | 8, 5]) + frame(hello) +
        frame(auth(dialed, own)))
output = glob.glob(f"{tmp}/local/**/output.bin", recursive=True)
if output:
    data = open(sorted(output)[0], "rb").read()
    out("fuzz_output", "local-output", b"\x07" + data[:8192])
    out("fuzz_output", "local-output-pieces", b"\x00" + data[:3000])
if len(output) > 1:  # member 1 writes a hash chain per batch, no units (chain mode)
    data = open(sorted(output)[1], "rb").read()
    out("fuzz_output", "local-output-chain", b"\x03" + data[:4096])
tx = lambda n: struct.pack("<I", n) + bytes((i * 7) & 255 for i in range(n))
submits = b"".join(tx(n) for n in (1, 20, 64, 65, 300))
out("fuzz_client", "submits", bytes([60, 0b11100100, 0]) + submits)
out("fuzz_client", "submits-pieces", bytes([2, 0, 0]) + submits)
out("fuzz_client", "durable", bytes([60, 0b00010000, 0]) + b"\xfe\xff\xff\xff" + submits)
out("fuzz_client", "subscribe", bytes([60, 0, 1]) + b"\xff\xff\xff\xff" + tx(20))
out("fuzz_client", "empty-and-oversized", bytes([60, 0, 0]) + tx(0) + tx(20) +
    struct.pack("<I", (16 << 20) + 1) + tx(20))
PY
for t in $targets; do printf 'fuzz corpus: %s %s\n' "$t" "$(ls "fuzz/corpus/$t" | wc -l)"; done
