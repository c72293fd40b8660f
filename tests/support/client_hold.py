#!/usr/bin/env python3
"""Client-port connections for tests/node_client_limits.sh (protocol: src/node/client.h).

usage: client_hold.py idle HOST:PORT COUNT SOURCES STOP_FILE REPORT_FILE
    opens COUNT connections that send nothing, bound in turn to the source addresses
    SOURCES ("127.0.0.2-4"), and holds them until STOP_FILE exists. REPORT_FILE is rewritten
    every half second with one JSON object: opened, refused (the node sent the status 5
    byte, then closed), silent (closed by the node without a word), open (still open).
usage: client_hold.py subscribe HOST:PORT COUNT
    subscribes COUNT connections one after the other, and prints one JSON object: how many
    the node answered 5 (refused) and how many it kept (no answer within 2 s).
usage: client_hold.py slow HOST:PORT
    sends two bytes of a transaction's length and nothing more; exits 0 once the node
    closes the connection (the read timeout), 1 if it is still open after 60 s.
"""
import json
import os
import selectors
import socket
import struct
import sys
import time


def sources_of(spec):
    first, last = spec.split('-')
    prefix, a = first.rsplit('.', 1)
    return [f'{prefix}.{k}' for k in range(int(a), int(last) + 1)]


def idle(target, count, spec, stop_file, report_file):
    host, port = target.rsplit(':', 1)
    srcs = sources_of(spec)
    sel = selectors.DefaultSelector()
    st = {'opened': 0, 'refused': 0, 'silent': 0, 'open': 0}
    for k in range(count):
        s = socket.socket()
        s.bind((srcs[k % len(srcs)], 0))
        s.connect((host, int(port)))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        st['opened'] += 1
        st['open'] += 1
    last = 0.0
    while not os.path.exists(stop_file):
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                data = s.recv(16)
            except OSError:
                data = b''
            if data and data[0] == 5:
                st['refused'] += 1
            elif not data:
                st['silent'] += 1
            else:
                continue
            sel.unregister(s)
            s.close()
            st['open'] -= 1
        if time.monotonic() - last > 0.5:
            last = time.monotonic()
            with open(report_file + '.tmp', 'w') as f:
                json.dump(st, f)
            os.replace(report_file + '.tmp', report_file)


def subscribe(target, count):
    host, port = target.rsplit(':', 1)
    held, refused = [], 0
    for _ in range(count):
        s = socket.create_connection((host, int(port)), timeout=2)
        s.sendall(struct.pack('<I', 0xFFFFFFFF))
        try:
            data = s.recv(1)
        except socket.timeout:
            held.append(s)
            continue
        if data == b'\x05':
            refused += 1
        s.close()
    print(json.dumps({'kept': len(held), 'refused': refused}))


def slow(target):
    host, port = target.rsplit(':', 1)
    s = socket.create_connection((host, int(port)), timeout=60)
    s.sendall(b'\x10\x00')
    try:
        data = s.recv(16)
    except socket.timeout:
        return 1
    except OSError:
        return 0
    return 0 if not data else 1


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'idle':
        idle(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])
    elif cmd == 'subscribe':
        subscribe(sys.argv[2], int(sys.argv[3]))
    elif cmd == 'slow':
        sys.exit(slow(sys.argv[2]))
