#!/usr/bin/env python3
"""Where a transaction's end-to-end latency goes, from one `aleph local` run directory.

    bench/latency_split.py RUN_DIR [--json]

The run's end-to-end latency (the summary's) is, per transaction, member i's output time of
the batch holding it minus its send time, for the transactions client i sent to member i
(the client is on the member's host: in the member's region with --wan). This splits it, per
transaction of the measurement window, into
  pool     send -> creation of the own unit that carries it (member i's `unit_created` log
           line): the client link, the client port, the wait in the pool for the next unit;
  send     creation -> arrival at the peers (their `unit_received` lines) minus the link's
           emulated one-way delay (links.csv): the backup's sync before the send, the send
           path and the receiver's step (the median over the peers of each unit);
  order    creation -> member i's output of the batch (batch output time in member i's
           output.bin: written in the step that decides the head, so the decision and the
           output are one instant up to the step);
and splits `order` by whether the unit is its batch's head (output with the head's election,
one round earlier than the other units of its round). Member 0 writes the full output (units,
transactions); the others a hash chain with one time per batch (joined by batch sequence).
Log times have millisecond resolution. Python 3, standard library only."""
import json
import os
import re
import struct
import sys
from datetime import datetime, timezone

BATCH_MAGIC = 0x48435442


def read_output(path, full):
    """seq -> (out_ns, head_round, head_creator, head_hash, units); units only when full:
    list of (round, creator, hash, txs payload bytes)."""
    out = {}
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'ALEPHOUT' or struct.unpack_from('<I', data, 8)[0] != 2:
        raise SystemExit(f'{path}: not a version-2 output file')
    off = 72
    while off + 120 <= len(data):
        (magic, seq, _epoch, _index, hround, hcreator) = struct.unpack_from('<IQIIII', data, off)
        if magic != BATCH_MAGIC:
            raise SystemExit(f'{path}: bad batch magic at {off}')
        hhash = data[off + 28:off + 60]
        _depth, out_ns, units_n, _txs_n, _payload = struct.unpack_from("<IQIIQ", data, off + 60)
        off += 120
        units = []
        if full:
            for _ in range(units_n):
                rnd, creator = struct.unpack_from('<II', data, off)
                uhash = data[off + 8:off + 40]
                (plen,) = struct.unpack_from('<I', data, off + 40)
                off += 44
                units.append((rnd, creator, uhash, data[off:off + plen]))
                off += plen
        out[seq] = (out_ns, hround, hcreator, hhash, units)
    return out


TS = re.compile(r'"ts":"([^"]+)"')


def ts_ns(line):
    s = TS.search(line).group(1)
    dt = datetime.strptime(s, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1000) * 1000000


def read_log(path):
    """(created: round -> ns, received: (creator, round) -> ns)."""
    created, received = {}, {}
    with open(path) as f:
        for line in f:
            if '"unit_created"' in line:
                created[json.loads(line)['round']] = ts_ns(line)
            elif '"unit_received"' in line:
                j = json.loads(line)
                received.setdefault((j['creator'], j['round']), ts_ns(line))
    return created, received


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))]


def summary(v):
    if not v:
        return {'n': 0}
    return {'n': len(v), 'p50': round(pct(v, 50), 1), 'mean': round(sum(v) / len(v), 1),
            'p90': round(pct(v, 90), 1)}


def link_delays(run_dir, n):
    """From member i's link_config log line: delay_ms to every peer."""
    d = [[0.0] * n for _ in range(n)]
    for i in range(n):
        with open(os.path.join(run_dir, f'member-{i}', 'node.log')) as f:
            for line in f:
                if '"link_config"' in line:
                    d[i] = [float(x) for x in json.loads(line).get('delay_ms', [0] * n)]
                    break
    return d


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    if len(args) != 1:
        raise SystemExit(__doc__)
    run_dir = args[0]
    run = json.load(open(os.path.join(run_dir, 'run.json')))
    n, base = run['members'], run['client_id_base']
    w0, w1 = run['window_start_ns'], run['window_end_ns']
    outs = [read_output(os.path.join(run_dir, f'member-{i}', 'output.bin'), i == 0)
            for i in range(n)]
    logs = [read_log(os.path.join(run_dir, f'member-{i}', 'node.log')) for i in range(n)]
    delay = link_delays(run_dir, n)
    # Creation to arrival at the peers, minus the emulated link delay, per unit.
    send_ms = {}
    for c in range(n):
        for r, at in logs[c][0].items():
            v = [(logs[j][1][(c, r)] - at) / 1e6 - delay[c][j]
                 for j in range(n) if j != c and (c, r) in logs[j][1]]
            if v:
                send_ms[(c, r)] = sorted(v)[len(v) // 2]
    e2e, pool, order, order_head, order_other, send, head_share = [], [], [], [], [], [], []
    per_member = {i: [] for i in range(n)}
    for seq, (_ns, _hr, _hc, hhash, units) in outs[0].items():
        for (rnd, creator, uhash, payload) in units:
            created = logs[creator][0].get(rnd)
            out_i = outs[creator].get(seq)
            if created is None or out_i is None:
                continue
            is_head = uhash == hhash
            off = 0
            while off + 4 <= len(payload):
                (tlen,) = struct.unpack_from('<I', payload, off)
                tx = payload[off + 4:off + 4 + tlen]
                off += 4 + tlen
                if tlen < 20:
                    continue
                send_ns, _s, client = struct.unpack_from('<QQI', tx, 0)
                if client - base != creator or not (w0 <= send_ns < w1):
                    continue
                total = (out_i[0] - send_ns) / 1e6
                e2e.append(total)
                per_member[creator].append(total)
                pool.append((created - send_ns) / 1e6)
                o = (out_i[0] - created) / 1e6
                order.append(o)
                (order_head if is_head else order_other).append(o)
                head_share.append(1 if is_head else 0)
                if (creator, rnd) in send_ms:
                    send.append(send_ms[(creator, rnd)])
    rep = {
        'txs': len(e2e),
        'e2e_ms': summary(e2e),
        'pool_ms': summary(pool),
        'send_ms': summary(send),
        'order_ms': summary(order),
        'order_head_unit_ms': summary(order_head),
        'order_other_unit_ms': summary(order_other),
        'in_head_units': round(sum(head_share) / len(head_share), 3) if head_share else None,
        'e2e_p50_by_member_ms': {i: round(pct(v, 50), 1) for i, v in per_member.items() if v},
    }
    if '--json' in sys.argv:
        print(json.dumps(rep))
        return
    for k, v in rep.items():
        print(f'{k:22} {v}')


if __name__ == '__main__':
    main()
