#!/usr/bin/env python3
"""Checks members' output files (src/node/output.h) after a run with faults.

usage: check_outputs.py DURABLE_TXS_FILE OUTPUT.bin [OUTPUT.bin ...] [--prefix OUTPUT.bin ...]

- every output is a prefix of one sequence of units (compared by unit hash), read across the
  member's rotated files (output-SEQ.bin, then output.bin) with no batch missing or repeated;
- no unit and no transaction appears twice in one output;
- every transaction listed in DURABLE_TXS_FILE (one per line: acknowledged "durable" by a
  member) is in every output exactly once, except in those after --prefix (members that
  cannot be current: checked for agreement and repeats only).
Prints one line per problem and exits 1 on any; prints a summary and exits 0 otherwise.
With --wait it only answers whether every output already holds every durable transaction
(exit 0) or not yet (exit 3), for polling while members catch up.
"""
import os
import struct
import sys


def read_file(path, expect_seq):
    """One output file (format 1 or 2): (units, txs, torn bytes, next seq); seq checked."""
    data = open(path, 'rb').read()
    if len(data) < 24 or data[:8] != b'ALEPHOUT':
        raise ValueError(f'{path}: not an output file')
    (version,) = struct.unpack_from('<I', data, 8)
    if version == 1:
        pos, hb, count_at, seq = 24, 60, 56, expect_seq
    elif version == 2:
        first, mode = struct.unpack_from('<QI', data, 24)
        if mode != 0:
            raise ValueError(f'{path}: a hash chain (--output-mode chain), not a full output')
        if expect_seq is not None and first != expect_seq:
            raise ValueError(f'{path}: begins at batch {first}, batch {expect_seq} expected')
        pos, hb, count_at, seq = 72, 120, 72, first
    else:
        raise ValueError(f'{path}: unknown format {version}')
    units, txs = [], []
    while pos + hb <= len(data):
        (magic,) = struct.unpack_from('<I', data, pos)
        if magic != 0x48435442:
            raise ValueError(f'{path}: bad batch magic at byte {pos}')
        if version == 2:
            (bseq,) = struct.unpack_from('<Q', data, pos + 4)
            if seq is not None and bseq != seq:
                raise ValueError(f'{path}: batch {bseq} where {seq} was expected (gap or repeat)')
            seq = bseq
        (count,) = struct.unpack_from('<I', data, pos + count_at)
        p = pos + hb
        batch_units, batch_txs, complete = [], [], True
        for _ in range(count):
            if p + 44 > len(data):
                complete = False
                break
            h = data[p + 8:p + 40]
            (plen,) = struct.unpack_from('<I', data, p + 40)
            p += 44
            if p + plen > len(data):
                complete = False
                break
            q, end = p, p + plen
            while q + 4 <= end:
                (tl,) = struct.unpack_from('<I', data, q)
                batch_txs.append(bytes(data[q + 4:q + 4 + tl]))
                q += 4 + tl
            batch_units.append(bytes(h))
            p = end
        if not complete:
            break
        units += batch_units
        txs += batch_txs
        pos = p
        seq = None if seq is None else seq + 1
    return units, txs, len(data) - pos, seq


def read_output(path):
    """A member's output, DIR/output-SEQ.bin (rotated) then DIR/output.bin: (unit hashes in
    order, transactions in order, torn bytes)."""
    d = os.path.dirname(path) or '.'
    rotated = sorted(int(n[7:-4]) for n in os.listdir(d)
                     if n.startswith('output-') and n.endswith('.bin') and n[7:-4].isdigit())
    files = [os.path.join(d, 'output-%020d.bin' % s) for s in rotated]
    if os.path.exists(path):
        files.append(path)
    units, txs, torn, seq = [], [], 0, rotated[0] if rotated else None
    for f in files:
        u, t, torn, seq = read_file(f, seq)
        units += u
        txs += t
    if rotated and rotated[0] != 0:
        raise ValueError(f'{d}: batches before {rotated[0]} were deleted (retention)')
    return units, txs, torn


def main(argv):
    wait = False
    if argv and argv[0] == '--wait':
        wait = True
        argv = argv[1:]
    if len(argv) < 2:
        print(__doc__)
        return 2
    durable = [line.rstrip('\n').encode() for line in open(argv[0]) if line.strip()]
    paths_all = argv[1:]
    partial = set()
    if '--prefix' in paths_all:
        k = paths_all.index('--prefix')
        partial = set(paths_all[k + 1:])
        paths_all = paths_all[:k] + paths_all[k + 1:]
    outputs = {path: read_output(path) for path in paths_all}
    problems = []
    for path, (units, txs, _torn) in outputs.items():
        seen = {}
        for t in txs:
            seen[t] = seen.get(t, 0) + 1
        missing = [] if path in partial else [d for d in durable if seen.get(d, 0) == 0]
        if wait:
            if missing:
                return 3
            continue
        if len(set(units)) != len(units):
            problems.append(f'{path}: a unit is output twice')
        twice = [t for t, k in seen.items() if k > 1]
        if twice:
            problems.append(f'{path}: {len(twice)} transactions output more than once, e.g. {twice[0][:40]!r}')
        if missing:
            problems.append(f'{path}: {len(missing)} durably acknowledged transactions missing, e.g. {missing[0]!r}')
    if wait:
        return 0
    paths = list(outputs)
    longest = max(paths, key=lambda p: len(outputs[p][0]))
    for path in paths:
        units = outputs[path][0]
        if outputs[longest][0][:len(units)] != units:
            problems.append(f'{path}: not a prefix of {longest}')
    for p in problems:
        print('check_outputs: ' + p)
    if problems:
        return 1
    print(f'check_outputs: ok: {len(paths)} outputs agree (longest {len(outputs[longest][0])} units), '
          f'{len(durable)} durable transactions each exactly once in every output'
          + (f' but {len(partial)} checked as prefixes only' if partial else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
