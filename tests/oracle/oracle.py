#!/usr/bin/env python3
"""The ordering oracle: recomputes every member's batches from an `aleph sim --dump DIR` and
compares them with what the member output, batch by batch and unit by unit.

It is a deliberately plain reading of section 4 of the team's specification (shared/docs/
PROTOCOL.md), written apart from src/core/ordering.c and sharing nothing with it: no state is
kept between candidates, between rounds or between batches; for every batch the member output,
the member's DAG at that moment is rebuilt from its arrival order, and for every candidate the
votes of every unit above it are computed from the definition, round by round (the vote of a
unit of round R needs the votes of its round-(R-1) parents, which the previous round's pass
computed for this candidate only). Python's standard library only.

What it checks, per member (every instance the dump has, forkers' faces and the lives of a
member that restarted included: each life is checked on its own, from its own arrivals):
  - every unit's listed parents reproduce its control hash (BLAKE2b-256 of "aleph/parents\\0"
    and the parent hashes), trying a forker's variants where the dump could not name one;
  - the member's DAG is downward closed at every arrival;
  - batch k is batch(k): its head is the first candidate (in the committee-wide order: the
    default creator c(r) from the header's schedule, or r mod N without one) decided
    1 with every earlier one decided 0, in the member's DAG when it output the batch; its units
    are everything below or equal to the head in no earlier batch, sorted by (round, hash);
  - the election record: the candidates in the committee-wide order, containing every round-r
    unit that arrived before the first round-(r+3) unit; candidates before the head decided 0
    and the head decided 1 by the units the member names, at the depth it reports;
  - coin values (coins.jsonl): every member that knows coin(R) has the same value; in test
    mode it is BLAKE2b-256("aleph/test-coin\\0" || session u64 LE || R u32 LE);
  - epochs (header epoch_rounds E > 0): each epoch is recomputed on its own, from the units of
    that epoch in the member's arrivals (rounds restart at 0, the DAG is empty at the start);
    a member's batches come for rounds 0..E-1 of epoch 0, then of epoch 1, ..., the last of
    each marked (a life restored from a later epoch's backup begins at that epoch's batch 0,
    with the session the other lives' chain gives it), and the session of epoch e+1 is the first 8 bytes (LE) of BLAKE2b-256(
    "aleph/epoch\\0" || session(e) u64 LE || e+1 u32 LE || the head of round E-1 of e).
A divergence prints the seed, the member, the first differing batch and the rerun command, and
exits 1; a malformed dump exits 2.

    oracle.py DIR [DIR...]
"""
import hashlib
import itertools
import json
import os
import sys


class Divergence(Exception):
    pass


class BadDump(Exception):
    pass


def tagged(tag, *parts):
    h = hashlib.blake2b(digest_size=32)
    h.update(tag.encode() + b"\0")
    for p in parts:
        h.update(p)
    return h.digest()


class Unit:
    __slots__ = ("hash", "raw", "creator", "epoch", "round", "parents", "slots", "control")

    def __init__(self, rec):
        self.hash = rec["hash"]
        self.epoch = rec.get("epoch", 0)
        self.raw = bytes.fromhex(self.hash)
        self.creator = rec["creator"]
        self.round = rec["round"]
        self.parents = rec["parents"]
        self.slots = [tuple(s) for s in rec["slots"]]
        self.control = rec["control"]


def read_jsonl(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
    return out


def control_of(hashes):
    return tagged("aleph/parents", *[bytes.fromhex(h) for h in hashes]).hex()


def resolve_parents(units, by_slot):
    """Checks every unit's parents against its control hash; where the dump's reconstruction
    does not reproduce it (a forker's slot), tries the slot's variants."""
    for u in units.values():
        if u.round == 0:
            if u.parents or u.slots:
                raise Divergence("unit %s of round 0 has parents" % u.hash[:12])
            continue
        if len(u.parents) == len(u.slots) and None not in u.parents and \
                control_of(u.parents) == u.control:
            continue
        choices = [by_slot.get((u.epoch,) + s, []) for s in u.slots]
        for combo in itertools.product(*choices):
            if control_of(combo) == u.control:
                u.parents = list(combo)
                break
        else:
            raise BadDump("unit %s: no parents in the dump reproduce its control hash" % u.hash[:12])


class Dump:
    def __init__(self, d):
        self.dir = d
        with open(os.path.join(d, "header.json")) as f:
            self.header = json.load(f)
        h = self.header
        if h.get("format") != 2:
            raise BadDump("header.json: format %r, expected 2" % h.get("format"))
        self.n, self.f, self.q = h["members"], h["f"], h["quorum"]
        if self.f != (self.n - 1) // 3 or self.q != self.n - self.f:
            raise Divergence("header: f=%d q=%d for N=%d" % (self.f, self.q, self.n))
        self.coin_mode = h["coin"]
        self.epoch_rounds = h.get("epoch_rounds", 0)
        # The default-creator schedule: c(r) = schedule[r mod its length]; none: r mod N.
        self.schedule = h.get("default_creators", [])
        if any(not isinstance(c, int) or not 0 <= c < self.n for c in self.schedule):
            raise BadDump("header: default_creators %r names a member outside 0..%d" %
                          (self.schedule, self.n - 1))
        self.units = {}
        by_slot = {}
        for rec in read_jsonl(os.path.join(d, "dag.jsonl")):
            u = Unit(rec)
            if u.hash in self.units:
                continue
            self.units[u.hash] = u
            by_slot.setdefault((u.epoch, u.creator, u.round), []).append(u.hash)
        resolve_parents(self.units, by_slot)
        self.coins = self.load_coins()

    def default_creator(self, r):
        return self.schedule[r % len(self.schedule)] if self.schedule else r % self.n

    def load_coins(self):
        coins = {}
        for rec in read_jsonl(os.path.join(self.dir, "coins.jsonl")):
            r, v, e = rec["round"], rec["value"], rec.get("epoch", 0)
            session = int(rec.get("session", self.header["session"])).to_bytes(8, "little")
            if (e, r) in coins and coins[(e, r)] != v:
                raise Divergence("coin(%d) of epoch %d: member %d has %s, another member %s" %
                                 (r, e, rec["member"], v[:16], coins[(e, r)][:16]))
            if self.coin_mode == "test":
                want = tagged("aleph/test-coin", session + r.to_bytes(4, "little")).hex()
                if v != want:
                    raise Divergence("coin(%d) at member %d is %s, the test coin is %s" %
                                     (r, rec["member"], v[:16], want[:16]))
            coins[(e, r)] = v
        if self.coin_mode == "off" and coins:
            raise Divergence("coin values written with the coin off")
        return coins

    def members(self):
        """(label, arrivals path, output path) per member instance in the dump: a forker's two
        faces, and every life of a member that restarted (r1, r2, ...: its restored DAG, then
        what arrived, and every batch it derived again from batch 0)."""
        for i in range(self.n):
            faces = ["", "b"]
            k = 1
            while os.path.exists(os.path.join(self.dir, "arrivals-%dr%d.txt" % (i, k))):
                faces.append("r%d" % k)
                k += 1
            for face in faces:
                arr = os.path.join(self.dir, "arrivals-%d%s.txt" % (i, face))
                if os.path.exists(arr):
                    yield "%d%s" % (i, face), arr, os.path.join(self.dir, "output-%d%s.jsonl" % (i, face))


class View:
    """A member's DAG as it was when it held its first `size` arrivals."""

    def __init__(self, dump, arrivals, size, epoch=0):
        self.dump = dump
        self.epoch = epoch
        self.arrivals = [h for h in arrivals[:size] if dump.units[h].epoch == epoch]
        self.units = set(self.arrivals)
        self.by_round = {}
        for h in self.arrivals:
            self.by_round.setdefault(dump.units[h].round, []).append(h)
        self.top = max(self.by_round) if self.by_round else -1

    def round_units(self, r):
        return self.by_round.get(r, [])

    def coin(self, r):
        """coin(r) once this DAG holds units of round r from f+1 creators; else None."""
        if self.dump.coin_mode == "off":
            return None
        creators = {self.dump.units[h].creator for h in self.round_units(r)}
        if len(creators) < self.dump.f + 1:
            return None
        v = self.dump.coins.get((self.epoch, r))
        return bytes.fromhex(v) if v else None


def common_vote(view, u0, d, voter_round):
    """CommonVote(U0, R) for a voter of round R = r+d; None while coin(R+1) is unknown."""
    if d == 2:
        return 1
    if d == 3:
        return 0
    if d == 4:
        return 1
    if view.dump.coin_mode == "off":
        return 1 if d % 2 == 1 else 0
    coin = view.coin(voter_round + 1)
    if coin is None:
        return None
    return tagged("aleph/common-vote", coin, u0.raw)[0] & 1


def votes_about(view, u0, upto_round):
    """Every unit's vote on u0 and what it decides, computed from the definition, round by round
    up to upto_round. Returns {hash: (vote or None, decided value or None)}."""
    units = view.dump.units
    r = u0.round
    votes = {}
    for R in range(r + 1, upto_round + 1):
        d = R - r
        for h in view.round_units(R):
            u = units[h]
            if d == 1:
                slot = [p for p in u.parents if units[p].creator == u0.creator]
                votes[h] = (1 if slot == [u0.hash] else 0, None)
                continue
            below = [votes[p][0] for p in u.parents if units[p].round == R - 1]
            cv = common_vote(view, u0, d, R)
            if 0 in below and 1 in below:
                vote = cv
            elif None in below:
                vote = None
            else:
                vote = below[0]
            decided = None
            if cv is not None and below.count(cv) >= view.dump.q:
                decided = cv
            votes[h] = (vote, decided)
    return votes


def decision(view, u0):
    """(value, deciding units) for u0 in this DAG, or (None, []) when undecided."""
    votes = votes_about(view, u0, view.top)
    for R in range(u0.round + 2, view.top + 1):
        deciders = [h for h in view.round_units(R) if votes[h][1] is not None]
        values = {votes[h][1] for h in deciders}
        if len(values) > 1:
            raise Divergence("units of round %d decide both 0 and 1 about %s" % (R, u0.hash[:12]))
        if values:
            return values.pop(), deciders
    return None, []


def candidate_order(view, r):
    """Every round-r unit of this DAG in the committee-wide order, and the sort key used."""
    dump = view.dump
    default = dump.default_creator(r)
    units = [dump.units[h] for h in view.round_units(r)]
    defaults = sorted((u for u in units if u.creator == default), key=lambda u: u.raw)
    rest = [u for u in units if u.creator != default]
    key = None
    if rest:
        if dump.coin_mode == "off":
            def key(u): return (u.raw, u.raw)
        else:
            coin = view.coin(r + 5)
            if coin is not None:
                def key(u): return (tagged("aleph/priority", coin, u.raw), u.raw)
    return defaults, rest, key


def choose_head(view, r):
    """head(r): the first candidate decided 1 once every one before it is decided 0."""
    defaults, rest, key = candidate_order(view, r)
    for part in (defaults, rest):
        if part is rest and rest:
            if key is None:
                raise Divergence("round %d: every default candidate is decided 0 and coin(%d) "
                                 "is not known in this DAG" % (r, r + 5))
            rest.sort(key=key)
        for u0 in part:
            value, deciders = decision(view, u0)
            if value is None:
                raise Divergence("round %d: candidate %s (creator %d) is undecided in this DAG"
                                 % (r, u0.hash[:12], u0.creator))
            if value == 1:
                return u0, deciders
    raise Divergence("round %d: every candidate is decided 0" % r)


def batch_units(dump, head, ordered_before):
    seen, stack = {head.hash}, [head.hash]
    while stack:
        for p in dump.units[stack.pop()].parents:
            if p not in seen and p not in ordered_before:
                seen.add(p)
                stack.append(p)
    return sorted(seen, key=lambda h: (dump.units[h].round, h))


def check_record(view, r, batch, head):
    dump = view.dump
    cands = batch["candidates"]
    hi = batch["head_index"]
    if not cands:
        raise Divergence("no election record")
    if hi >= len(cands) or cands[hi] != head.hash:
        raise Divergence("the record's head (index %d) is not the head" % hi)
    defaults, rest, key = candidate_order(view, r)
    default = dump.default_creator(r)
    for h in cands:
        if h not in view.units or dump.units[h].round != r:
            raise Divergence("candidate %s is not a round-%d unit of this DAG" % (h[:12], r))

    def rank(h):
        u = dump.units[h]
        if u.creator == default:
            return (0, u.raw)
        if key is None:
            raise Divergence("a non-default candidate is listed but coin(%d) is unknown" % (r + 5))
        return (1,) + key(u)
    if [rank(h) for h in cands] != sorted(rank(h) for h in cands) or len(set(cands)) != len(cands):
        raise Divergence("the candidates are not in the committee-wide order")
    listed_all = len(cands) > len([h for h in cands if dump.units[h].creator == default])
    first_w = next((k for k, h in enumerate(view.arrivals) if dump.units[h].round == r + 3), None)
    if first_w is not None:
        for h in view.arrivals[:first_w]:
            u = dump.units[h]
            if u.round == r and (listed_all or u.creator == default) and h not in cands:
                raise Divergence("round-%d unit %s held at the election's start is not a "
                                 "candidate" % (r, h[:12]))
    deciders = batch["deciders"]
    if len(deciders) != hi + 1:
        raise Divergence("%d deciders for head index %d" % (len(deciders), hi))
    for k in range(hi + 1):
        want = 1 if k == hi else 0
        w = deciders[k]
        if w not in view.units:
            raise Divergence("decider %s of candidate %d is not in this DAG" % (w[:12], k))
        wu = dump.units[w]
        votes = votes_about(view, dump.units[cands[k]], wu.round)
        if wu.round < r + 2 or votes[w][1] != want:
            raise Divergence("unit %s does not decide %d about candidate %d (it decides %r)" %
                             (w[:12], want, k, votes[w][1] if wu.round >= r + 2 else None))
    if batch["depth"] != dump.units[deciders[hi]].round - r:
        raise Divergence("depth %d, but the head's decider is of round %d" %
                         (batch["depth"], dump.units[deciders[hi]].round))


def check_member(dump, label, arr_path, out_path):
    with open(arr_path) as f:
        arrivals = [line.strip() for line in f if line.strip()]
    held = set()
    for h in arrivals:
        u = dump.units.get(h)
        if u is None:
            raise BadDump("member %s: unit %s arrived but is not in dag.jsonl" % (label, h[:12]))
        if h in held:
            raise Divergence("member %s: unit %s entered its DAG twice" % (label, h[:12]))
        missing = [p for p in u.parents if p not in held]
        if missing:
            raise Divergence("member %s: unit %s entered before its parent %s" %
                             (label, h[:12], missing[0][:12]))
        held.add(h)
    ordered = set()
    batches = read_jsonl(out_path)
    E = dump.epoch_rounds
    # A life restored from an epoch's backup file derives that epoch again from its batch 0:
    # its batches begin there, with the session the committee's chain gives that epoch.
    first = batches[0].get("epoch", 0) if batches and E else 0
    if first not in dump.session_chain:
        raise Divergence("member %s: its batches begin in epoch %d, which no life reached" %
                         (label, first))
    session = dump.session_chain[first]
    for n, b in enumerate(batches):
        epoch, k = (first + n // E, n % E) if E else (0, n)
        where = "member %s, epoch %d, batch %d (round %d)" % (label, epoch, k, b["round"])
        try:
            if b["round"] != k or b.get("epoch", 0) != epoch:
                raise Divergence("batch(%d) of epoch %d expected" % (k, epoch))
            if E and b["last"] != (k == E - 1):
                raise Divergence("the epoch's last batch is round %d, this one says %s" %
                                 (E - 1, b["last"]))
            if E and int(b["session"]) != session:
                raise Divergence("session %s, the epoch's is %d" % (b["session"], session))
            if k == 0:
                ordered = set()  # a new epoch: an empty DAG, nothing ordered yet
            view = View(dump, arrivals, b["dag_units"], epoch)
            head, _ = choose_head(view, k)
            if b["head"] != head.hash:
                raise Divergence("head is %s (creator %d), the rules give %s (creator %d)" %
                                 (b["head"][:12], b["head_creator"], head.hash[:12], head.creator))
            want = batch_units(dump, head, ordered)
            got = b["units"]
            for j in range(max(len(want), len(got))):
                w = want[j] if j < len(want) else None
                g = got[j] if j < len(got) else None
                if w != g:
                    def name(h):
                        if h is None:
                            return "nothing"
                        u = dump.units[h] if h in dump.units else None
                        return "%s (creator %s, round %s)" % (h[:12], u.creator if u else "?",
                                                              u.round if u else "?")
                    raise Divergence("unit %d of %d: member has %s, the rules give %s" %
                                     (j, len(want), name(g), name(w)))
            check_record(view, k, b, head)
            ordered.update(want)
            if E and k == E - 1:
                session = int.from_bytes(tagged(
                    "aleph/epoch", session.to_bytes(8, "little"), (epoch + 1).to_bytes(4, "little"),
                    head.raw)[:8], "little")
                if dump.session_chain.setdefault(epoch + 1, session) != session:
                    raise Divergence("session of epoch %d is %d, another life's %d" %
                                     (epoch + 1, session, dump.session_chain[epoch + 1]))
        except Divergence as e:
            raise Divergence("%s: %s" % (where, e))
    return len(batches)


def first_epoch(out_path):
    """The epoch of a life's first batch (0 when none): lives from epoch 0 are checked first,
    so that the session chain is known where a restored life begins."""
    batches = read_jsonl(out_path) if os.path.exists(out_path) else []
    return batches[0].get("epoch", 0) if batches else 0


def check(d):
    dump = Dump(d)
    dump.session_chain = {0: dump.header["session"]}
    batches = members = 0
    for label, arr, out in sorted(dump.members(), key=lambda m: first_epoch(m[2]) > 0):
        batches += check_member(dump, label, arr, out)
        members += 1
    return dump, members, batches


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    status = 0
    for d in argv[1:]:
        seed = "?"
        try:
            with open(os.path.join(d, "header.json")) as f:
                header = json.load(f)
            seed = header.get("seed", "?")
            dump, members, batches = check(d)
            print("oracle: seed %s: %d batches of %d members agree with the rules (coin %s)" %
                  (seed, batches, members, dump.coin_mode))
        except Divergence as e:
            print("oracle: seed %s: DIVERGENCE: %s" % (seed, e))
            print("oracle: rerun: %s --dump DIR" % header.get("flags", "?"))
            status = max(status, 1)
        except (BadDump, OSError, ValueError, KeyError, TypeError) as e:
            print("oracle: %s: bad dump: %s" % (d, e))
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
