#!/usr/bin/env python3
"""Writes the recorded run in run4/ that tests/test_analyze.c checks `aleph analyze` against.

A committee of 4, ten rounds one second apart from T0 (the load start), every figure chosen
so that it can be counted by hand (tests/test_analyze.c states the expected numbers):
  - round r's batch is output by every member at T0 + r s + 500 ms; it holds one unit per
    creator c, carrying the transactions the load client sent to member c: two of them,
    sequence numbers 2r and 2r+1, sent 100(c+1) + 10k ms before that output (k = 0, 1);
  - member c creates its round-r unit at T0 + r s + 100 ms; member t adds it 50 + 10c + t ms
    later; the unit is ordered at its creator with latency 300 + 10c + r ms;
  - head depths by round: 2 2 3 2 4 2 2 5 2 2;
  - final stats: bytes out 1e6 (c+1), bytes in 2e6, uptime 10 s, peak RSS 10+c MB, CPU
    1 + 0.5c s; member 1 rejected 2 messages, member 2 dropped 3 from a full send queue;
  - member 3's log has a garbage line, a line cut in the middle and a last line cut short
    (no newline): 3 broken lines, skipped.
Run it from this directory: python3 make_fixture.py
"""
import json, os, struct, time

T0_MS = 1700000000000          # 2023-11-14T22:13:20.000Z
N, ROUNDS, TX_SIZE, CLIENT_BASE = 4, 10, 32, 0x10000
DEPTHS = [2, 2, 3, 2, 4, 2, 2, 5, 2, 2]
SESSION = 0x0123456789ABCDEF

def ts(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)

def unit_hash(c, r):
    return bytes([(c * 16 + r + i) & 0xFF for i in range(32)])

def short(h):
    return h[:8].hex()

def line(ms, who, event, level="info", **fields):
    obj = {"ts": ts(ms), "level": level, "member": who, "event": event}
    obj.update(fields)
    return json.dumps(obj, separators=(",", ":"))

def tx(send_ns, seq, client):
    body = struct.pack("<QQI", send_ns, seq, client)
    return body + b"\0" * (TX_SIZE - len(body))

def output_file(member):
    out = bytearray(b"ALEPHOUT" + struct.pack("<IIQ", 1, member, SESSION))
    for r in range(ROUNDS):
        out_ms = T0_MS + r * 1000 + 500
        head = (r % N)
        out += struct.pack("<III", 0x48435442, r, head) + unit_hash(head, r)
        out += struct.pack("<IQI", DEPTHS[r], out_ms * 1000000, N)
        for c in range(N):
            payload = b""
            for k in range(2):
                lat_ms = 100 * (c + 1) + 10 * k
                t = tx((out_ms - lat_ms) * 1000000, 2 * r + k, CLIENT_BASE + c)
                payload += struct.pack("<I", len(t)) + t
            out += struct.pack("<II", r, c) + unit_hash(c, r) + struct.pack("<I", len(payload))
            out += payload
    return bytes(out)

def log_lines(m):
    ev = []  # (ms, order, text)
    ev.append((T0_MS - 500, 0, line(T0_MS - 500, m, "node_started", members=N,
               session="%016x" % SESSION, coin="threshold", address="127.0.0.1:%d" % (61000 + m),
               client_port=61004 + m, data_dir="member-%d" % m, round_delay_ms=10,
               max_unit_bytes=1048576, pid=1000 + m)))
    for r in range(ROUNDS):
        base = T0_MS + r * 1000
        ev.append((base + 100, 1, line(base + 100, m, "unit_created", round=r,
                   hash=short(unit_hash(m, r)))))
        for c in range(N):
            if c == m:
                continue
            d = 50 + 10 * c + m
            ev.append((base + 100 + d, 2, line(base + 100 + d, m, "unit_received", creator=c,
                       round=r, hash=short(unit_hash(c, r)))))
        ev.append((base + 500, 3, line(base + 500, m, "unit_ordered", creator=m, round=r,
                   hash=short(unit_hash(m, r)), batch=r, txs=2, latency_ms=300 + 10 * m + r)))
        ev.append((base + 500, 4, line(base + 500, m, "head_decided", round=r, creator=r % N,
                   hash=short(unit_hash(r % N, r)), depth=DEPTHS[r], units=N, txs=2 * N)))
    def stats(ms, event, frac):
        return line(ms, m, event, uptime_s=round(10.0 * frac, 1), rss_mb=9.0 + m,
                    peak_rss_mb=10.0 + m, cpu_s=round((1.0 + 0.5 * m) * frac, 2),
                    round_created=9, round_ordered=9, bytes_in=int(2000000 * frac),
                    bytes_out=int(1000000 * (m + 1) * frac),
                    queue_bytes=0, queue_dropped=3 if m == 2 and frac == 1 else 0,
                    peers_up=3, peers=[], net={"accepted": 0, "refused": 0,
                    "handshake_failed": 0, "handshake_timeouts": 0, "frames_oversize": 0,
                    "replaced": 0}, clients={"connected": 1, "txs_ok": 20, "pool_full": 0,
                    "too_large": 0}, member_={"units_created": 10,
                    "messages_dropped": 2 if m == 1 and frac == 1 else 0, "txs_ordered": 80}
                    ).replace('"member_":', '"member":')  # the log's nested "member" object
    ev.append((T0_MS + 4500, 5, stats(T0_MS + 4500, "stats", 0.5)))
    ev.append((T0_MS + 9500, 5, stats(T0_MS + 9500, "final_stats", 1.0)))
    ev.sort(key=lambda e: (e[0], e[1]))
    lines = [e[2] for e in ev]
    if m == 3:
        cut = lines[20][: len(lines[20]) // 2]
        lines.insert(12, "this is not a JSON line \x01 at all")
        lines.insert(21, cut)
        return "\n".join(lines) + "\n" + lines[-1][:40]   # the last one has no newline
    return "\n".join(lines) + "\n"

def main():
    d = "run4"
    os.makedirs(d, exist_ok=True)
    run = {"format": "aleph-run/1", "members": N, "faulty": 0, "tx_size": TX_SIZE,
           "offered_tx_s": 8.0, "duration_s": 10.0, "round_delay_ms": 10,
           "max_unit_bytes": 1048576, "coin": "threshold", "network": "loopback",
           "wan_matrix": "", "jitter_ms": 0.0, "loss": 0.0, "bandwidth_mbit": 0.0,
           "client_id_base": CLIENT_BASE, "load_start_ns": T0_MS * 1000000,
           "window_start_ns": (T0_MS + 1000) * 1000000, "window_end_ns": (T0_MS + 9000) * 1000000,
           "command": "hand-made fixture (tests/data/analyze/make_fixture.py)"}
    with open(os.path.join(d, "run.json"), "w") as f:
        json.dump(run, f, indent=2)
    with open(os.path.join(d, "load.json"), "w") as f:
        json.dump({"sent": 80, "accepted": 80, "refused_pool_full": 0, "kept_rate": True,
                   "per_second": [8] * 10}, f, indent=2)
    for m in range(N):
        md = os.path.join(d, "member-%d" % m)
        os.makedirs(md, exist_ok=True)
        with open(os.path.join(md, "output.bin"), "wb") as f:
            f.write(output_file(m))
        with open(os.path.join(md, "node.log"), "w") as f:
            f.write(log_lines(m))

main()
