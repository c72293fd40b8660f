#!/usr/bin/env python3
"""Holds many unauthenticated TCP connections to some ports, re-opening each one the moment
it is closed: the hostile load of tests/node_handshake_flood.sh and bench/handshake_flood.sh.

usage: conn_flood.py --target HOST:PORT [--target ...] --per-target N
                     [--sources A.B.C.D[-E]] [--hello SESSION_HEX] [--stop-file PATH]
                     [--duration S] [--ready-file PATH]

- every target gets N connections, bound in turn to the source addresses given (on Linux
  the whole of 127.0.0.0/8 is the loopback, so 127.0.0.2-127.0.0.21 are 20 sources);
- a connection closed by the other side (or refused, or not yet listening) is opened again
  at once: the count stays N per target for as long as this runs;
- with --hello, each connection sends a member hello of that session (the handshake's
  first message, src/net/handshake.h) and then nothing: it waits in the handshake's second
  step instead of its first;
- runs until --stop-file exists or --duration seconds have passed; writes --ready-file once
  every target has had N connections made, and prints one JSON line at the end:
  opened (connections made), closed_by_peer (closed by the other side), failed (connects
  that failed).
"""
import argparse
import errno
import ipaddress
import json
import os
import selectors
import socket
import struct
import sys
import time


def parse_sources(spec):
    if not spec:
        return [None]
    if '-' in spec:
        first, last = spec.split('-')
        a = ipaddress.IPv4Address(first)
        last = ipaddress.IPv4Address(last if '.' in last else first.rsplit('.', 1)[0] + '.' + last)
        return [str(ipaddress.IPv4Address(int(a) + k)) for k in range(int(last) - int(a) + 1)]
    return [spec]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--target', action='append', required=True)
    ap.add_argument('--per-target', type=int, required=True)
    ap.add_argument('--sources')
    ap.add_argument('--hello')
    ap.add_argument('--stop-file')
    ap.add_argument('--ready-file')
    ap.add_argument('--duration', type=float, default=3600)
    a = ap.parse_args()
    targets = []
    for t in a.target:
        host, port = t.rsplit(':', 1)
        targets.append((host, int(port)))
    sources = parse_sources(a.sources)
    hello = None
    if a.hello:
        hello_body = b'ALPH' + bytes([1]) + struct.pack('<Q', int(a.hello, 16)) + os.urandom(32)
        hello = struct.pack('<I', len(hello_body)) + hello_body
    sel = selectors.DefaultSelector()
    stats = {'opened': 0, 'closed_by_peer': 0, 'failed': 0}
    live = [0] * len(targets)
    made = [0] * len(targets)
    turn = [0]
    retry = []  # (time, target index) of connects to try again

    def open_one(ti):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        src = sources[turn[0] % len(sources)]
        turn[0] += 1
        try:
            if src:
                s.bind((src, 0))
            rc = s.connect_ex(targets[ti])
        except OSError:
            s.close()
            stats['failed'] += 1
            retry.append((time.monotonic() + 0.05, ti))
            return
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            stats['failed'] += 1
            retry.append((time.monotonic() + 0.05, ti))
            return
        live[ti] += 1
        sel.register(s, selectors.EVENT_WRITE, (ti, 'connecting'))

    def drop(s, ti, by_peer):
        sel.unregister(s)
        s.close()
        live[ti] -= 1
        if by_peer:
            stats['closed_by_peer'] += 1
        open_one(ti)

    for ti in range(len(targets)):
        for _ in range(a.per_target):
            open_one(ti)
    end = time.monotonic() + a.duration
    ready_written = False
    next_stop_check = 0.0
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if now >= next_stop_check:
            next_stop_check = now + 0.2
            if a.stop_file and os.path.exists(a.stop_file):
                break
        due = [r for r in retry if r[0] <= now]
        retry[:] = [r for r in retry if r[0] > now]
        for _, ti in due:
            open_one(ti)
        for key, ev in sel.select(timeout=0.05):
            s = key.fileobj
            ti, state = key.data
            if state == 'connecting':
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    sel.unregister(s)
                    s.close()
                    live[ti] -= 1
                    stats['failed'] += 1
                    retry.append((time.monotonic() + 0.05, ti))
                    continue
                stats['opened'] += 1
                made[ti] += 1
                if hello:
                    try:
                        s.send(hello)
                    except OSError:
                        pass
                sel.modify(s, selectors.EVENT_READ, (ti, 'open'))
                continue
            try:
                data = s.recv(4096)
            except OSError:
                data = b''
            if not data:
                drop(s, ti, True)
        if not ready_written and a.ready_file and all(m >= a.per_target for m in made):
            open(a.ready_file, 'w').close()
            ready_written = True
    stats['made_per_target_min'] = min(made) if made else 0
    print(json.dumps(stats))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
