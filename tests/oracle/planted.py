#!/usr/bin/env python3
"""Shows that the ordering oracle catches what it is for: takes a dump that the oracle accepts,
plants one rule bug at a time in a copy of it (as a core that breaks the rule at every member
would write it), and requires the oracle to report a divergence (exit 1) for each.

    planted.py ALEPH   (runs `ALEPH sim` itself, in test-coin mode so the coin check applies)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "oracle.py")


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def write(path, recs):
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


def oracle(d):
    p = subprocess.run([sys.executable, ORACLE, d], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def batches_with(out, pred):
    for k, b in enumerate(out):
        if pred(b):
            return k
    raise SystemExit("planted: no batch fits the plant (change the run)")


def swap_units(out):
    k = batches_with(out, lambda b: len(b["units"]) >= 2)
    u = out[k]["units"]
    u[0], u[1] = u[1], u[0]


def drop_unit(out):
    k = batches_with(out, lambda b: len(b["units"]) >= 2)
    out[k]["units"].pop(0)


def move_unit_later(out):
    # a unit of batch k moved into batch k+1 (as a wrong down-set would put it)
    k = batches_with(out, lambda b: len(b["units"]) >= 2)
    if k + 1 >= len(out):
        raise SystemExit("planted: no later batch")
    out[k + 1]["units"].insert(0, out[k]["units"].pop(0))


def other_head(out):
    # the head replaced by another round-r unit of the batch (an order or vote rule broken)
    k = batches_with(out, lambda b: any(h != b["head"] for h in b["units"]))
    b = out[k]
    b["head"] = next(h for h in reversed(b["units"]) if h != b["head"])


def wrong_depth(out):
    out[3]["depth"] += 1


def wrong_decider(out):
    k = batches_with(out, lambda b: len(b["deciders"]) >= 1)
    out[k]["deciders"][-1] = out[k]["head"]  # a unit never decides about itself


def main(argv):
    aleph = argv[1]
    tmp = tempfile.mkdtemp(prefix="aleph-planted-")
    try:
        base = os.path.join(tmp, "base")
        subprocess.run([aleph, "sim", "--quiet", "--members", "4", "--byzantine", "1",
                        "--byzantine-kind", "forker", "--rounds", "16", "--coin", "test",
                        "--seed", "3", "--dump", base], check=True)
        rc, text = oracle(base)
        if rc != 0:
            print(text)
            raise SystemExit("planted: the oracle rejects the unplanted dump")
        plants = [swap_units, drop_unit, move_unit_later, other_head, wrong_depth, wrong_decider]
        failed = 0
        for plant in plants:
            d = os.path.join(tmp, plant.__name__)
            shutil.copytree(base, d)
            path = os.path.join(d, "output-1.jsonl")
            out = lines(path)
            plant(out)
            write(path, out)
            rc, text = oracle(d)
            ok = rc == 1 and "DIVERGENCE" in text
            print("planted %-16s %s: %s" % (plant.__name__, "caught" if ok else "MISSED",
                                             text.strip().splitlines()[0]))
            failed += not ok
        # a coin value that is not the test coin
        d = os.path.join(tmp, "bad_coin")
        shutil.copytree(base, d)
        coins = lines(os.path.join(d, "coins.jsonl"))
        coins[5]["value"] = "00" * 32
        write(os.path.join(d, "coins.jsonl"), coins)
        rc, text = oracle(d)
        ok = rc == 1
        print("planted %-16s %s: %s" % ("bad_coin", "caught" if ok else "MISSED",
                                         text.strip().splitlines()[0]))
        failed += not ok
        # a unit entering a DAG before its parent
        d = os.path.join(tmp, "early_unit")
        shutil.copytree(base, d)
        path = os.path.join(d, "arrivals-2.txt")
        with open(path) as f:
            arr = f.read().split()
        arr[4], arr[12] = arr[12], arr[4]
        with open(path, "w") as f:
            f.write("\n".join(arr) + "\n")
        rc, text = oracle(d)
        ok = rc == 1
        print("planted %-16s %s: %s" % ("early_unit", "caught" if ok else "MISSED",
                                         text.strip().splitlines()[0]))
        failed += not ok
        print("planted: %d of %d plants caught" % (len(plants) + 2 - failed, len(plants) + 2))
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
