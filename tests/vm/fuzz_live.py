#!/usr/bin/env python3
"""Live differential fuzz: the C helper and this module, in one boot, on the same inputs.

  fuzz_live.py --seconds S --seed N [--workers W] [--max-inputs N] [--report FILE]

Runs in the guest as root, in two identical worlds of tests/vm/net.sh's topology: ftp-* where
the router assigns the C helper ("ftp-2121", server port 2121) and fz-* where it assigns this
module ("ftp-2122", server port 2122); tests/vm/test-fuzz-live.sh sets them up. Each world has
its own conntrack table, so the two helpers' expectations never meet and the inputs are the
same bytes for both.

An input is a short FTP control conversation: a greeting and a login line (so both
directions know a line start), then generated segments in either direction: commands and
replies with the sender's real address and random ports, mutated ones (random case, digits,
separators, truncation, junk), lines from the parser's seed corpus, long lines up to 64 KiB
and binary junk, IPv4 or IPv6. Each input runs on two fresh TCP connections at once, one per
helper, in its world, from the same client address (one per fuzz worker, so that inputs
running at once do not announce the same data connection). Each segment is one send() that must arrive before the
next is sent. A segment the router drops is never acknowledged and TCP sends it again: once
it has settled as dropped (tests/vm/tcp_settle.py) that connection stops there. Nothing here
waits for a fixed time: on a slower machine TCP's retransmission timer (from the measured
round trip) stretches with it.

Per input the helpers must agree on: which segments arrived, the expectations created
(ctnetlink NEW events through tests/vm/ct_events.py, each distinct one once; a listener
subscribed before the first input, and the events of a batch read once its last segment has
arrived or been dropped: the kernel queues them before the packet goes on) and the helper's
distinct log lines (nf_ct_helper_log through nf_log, from /dev/kmsg, written in the packet
path as well), and the bytes the receiver got of each segment: with --nat, where both routers
masquerade the clients and the C pair (nf_nat_ftp) and this module's NAT half rewrite the
announcements, what arrived must be the same rewritten bytes. Expectations and log lines are
compared with their counts where neither world
retransmitted anything, else as sets. Lost events or kernel log records stop the run as an
error, not a pass. Any difference is printed with the input and counted by channel; the
summary line is "fuzz-live: N inputs, D differences (by channel), R inputs/s, …". A canary
run (--canary) must find differences of its kind in its channels; --floors sets how many
inputs must have created an expectation, dropped a segment, logged.
"""
import argparse
import ctypes
import os
import random
import re
import select
import socket
import subprocess
import sys
import threading
import time

from ct_events import Listener
from kmsg import Kmsg
from tcp_settle import HANG_SECONDS, settled, total_retrans, unread

CLONE_NEWNET = 0x40000000
# Helper under test -> (namespace prefix of its world, server port).
WORLDS = {"C": ("ftp", 2121), "Rust": ("fz", 2122)}
SERVER4, SERVER6 = "10.0.2.2", "fd00:2::2"
SEEDS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "host", "fuzz", "seeds")

libc = ctypes.CDLL("libc.so.6", use_errno=True)


def enter_netns(name):
    """Moves the calling thread into network namespace `name` (sockets keep theirs)."""
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
    finally:
        os.close(fd)


def client_addrs(worker):
    """The client address of a fuzz worker (added to both worlds' clients)."""
    return f"10.0.1.{10 + worker}", f"fd00:1::{10 + worker}"


def v6_full(addr):
    """The address as %pI6 prints it: 8 groups of 4 hex digits."""
    packed = socket.inet_pton(socket.AF_INET6, addr)
    return ":".join(packed[i:i + 2].hex() for i in range(0, 16, 2))


# --- input generation -------------------------------------------------------------------

def load_seeds():
    seeds = []
    for name in sorted(os.listdir(SEEDS_DIR)):
        with open(os.path.join(SEEDS_DIR, name), "rb") as f:
            data = f.read()
        if data:
            side = "s" if data[0] & 1 else "c"
            seeds.append((side, data[1:]))
    return seeds


def commands(rng, side, v6, me, server):
    """A well-formed command (client) or reply (server) with the sender's own address."""
    port = rng.randrange(1, 65536) if rng.random() < 0.8 else rng.choice([0, 1, 65535, 65536, 70000])
    hi, lo = (port >> 8) & 0xFFFF, port & 0xFF
    own = server if side == "s" else me
    if side == "c":
        forms = ["EPRT |2|%s|%d|" % (rng.choice([own, v6_full(own)]), port)] if v6 else \
            ["PORT %s,%d,%d" % (own.replace(".", ","), hi, lo), "EPRT |1|%s|%d|" % (own, port)]
        if rng.random() < 0.1:
            forms.append("EPRT |%d|%s|%d|" % (1 if v6 else 2, own, port))
    else:
        forms = ["229 Entering Extended Passive Mode (|||%d|)" % port]
        if not v6:
            addr = own.replace(".", ",")
            forms += ["227 Entering Passive Mode (%s,%d,%d)." % (addr, hi, lo),
                      "227 =%s,%d,%d" % (addr, hi, lo), "227 Logout."]
    return rng.choice(forms).encode() + b"\r\n"


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(9)
        if not data:
            break
        i = rng.randrange(len(data))
        if op == 0:
            data[i] = rng.randrange(256)
        elif op == 1:
            data[i:i] = bytes([rng.choice(b"0123456789,|.:( )-")])
        elif op == 2:
            del data[i]
        elif op == 3:
            data = data[:i] + (b"\r\n" if rng.random() < 0.5 else b"")
        elif op == 4:
            data = bytearray(bytes(data).swapcase())
        elif op == 5:
            data[i:i] = str(rng.randrange(0, 100000)).encode()
        elif op == 6:
            data = bytearray(b" " * rng.randrange(1, 4)) + data
        elif op == 7:
            data = bytearray(bytes(data).replace(b"\r\n", b"\n"))
        else:
            j = rng.randrange(i, len(data))
            data[i:j] = b""
    return bytes(data)


def segment(rng, side, v6, me, server, seeds):
    r = rng.random()
    if r < 0.35:
        return commands(rng, side, v6, me, server)
    if r < 0.65:
        return mutate(rng, commands(rng, side, v6, me, server))
    if r < 0.8:
        s_side, data = rng.choice(seeds)
        data = data if rng.random() < 0.3 else mutate(rng, data)
        return data or b"\r\n"
    if r < 0.86:
        # A long line: a command head, then filler, up to 64 KiB, newline at the end only.
        head = commands(rng, side, v6, me, server).rstrip(b"\r\n")
        fill = rng.choice([b"1", b"x", b",", b" "]) * rng.randrange(1000, 65536 - len(head) - 2)
        return head + fill + b"\r\n"
    if r < 0.94:
        return rng.choice([b"NOOP\r\n", b"200 ok\r\n", b"230 Login successful.\r\n", b"PWD\r\n",
                           b"150 Here comes the listing.\r\n", b"TYPE I\r\n", b"\r\n"])
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))


def make_input(seed, v6, me, server, seeds):
    """Segments (side, bytes) for client address `me`: the same seed gives the same choices
    for both helpers' client addresses, whose texts have equal length."""
    rng = random.Random(seed)
    segs = [("s", b"220 fuzz ready\r\n"), ("c", b"USER anonymous\r\n")]
    if rng.random() < 0.125:
        # One announcement twice, nothing else: the second replaces the first, the same
        # expectation created again, which only the counts of events show.
        port = rng.randrange(1024, 65536)
        cmd = b"EPRT |2|%s|%d|\r\n" % (me.encode(), port) if v6 else \
            b"PORT %s,%d,%d\r\n" % (me.replace(".", ",").encode(), port >> 8, port & 0xFF)
        return segs + [("c", cmd), ("c", cmd)]
    for _ in range(rng.randrange(1, 6)):
        side = rng.choice("cs")
        data = segment(rng, side, v6, me, server, seeds)
        if rng.random() < 0.2 and len(data) > 1:
            # The same bytes split in two segments.
            k = rng.randrange(1, len(data))
            segs += [(side, data[:k]), (side, data[k:])]
        else:
            segs.append((side, data))
    return segs


# --- running an input -------------------------------------------------------------------

class Servers:
    """Listening sockets in each world's server; accepted connections by world and client."""

    def __init__(self):
        self.conns = {}
        self.cond = threading.Condition()
        self.socks = {}
        for world, (prefix, port) in WORLDS.items():
            enter_netns(f"{prefix}-sv")
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", port))
            s.listen(256)
            self.socks[s] = world
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            ready, _, _ = select.select(list(self.socks), [], [])
            for s in ready:
                conn, peer = s.accept()
                host = peer[0].removeprefix("::ffff:")
                with self.cond:
                    self.conns[(self.socks[s], host, peer[1])] = conn
                    self.cond.notify_all()

    def take(self, world, host, port, timeout=HANG_SECONDS):
        """The connection accepted from host:port in `world` (host None: from any address)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for key in self.conns:
                    if key[0] == world and key[2] == port and host in (None, key[1]):
                        return self.conns.pop(key)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{world}: server never saw {host or 'any address'}:{port}")
                self.cond.wait(left)


def run_pair(servers, segs, src, nat_port=0):
    """Runs one input in both worlds at once, from client address `src`; returns, per
    world, its client port, ('d'|'x') per segment: delivered, or dropped (and stopped), and
    the bytes the receiver got of each delivered segment.

    With `nat_port` (the routers masquerade): the client binds that port, which masquerade
    keeps (each worker has its own), and the server sees a router's address. What arrives
    may then differ from what was sent (NAT rewrites announcements): a segment counts as
    delivered once the peer has acknowledged all of it, by which time it is in the
    receiver's queue."""
    pairs = {}
    v6 = ":" in src
    server = SERVER6 if v6 else SERVER4
    # Behind masquerade the server sees a router address (which one, a canary may change).
    seen_from = None if nat_port else src
    for world, (prefix, port) in WORLDS.items():
        enter_netns(f"{prefix}-cl")  # this thread only; the socket keeps its namespace
        cl = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
        cl.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        cl.bind((src, nat_port))
        cl.connect((server, port))
        sv = servers.take(world, seen_from, cl.getsockname()[1])
        for s in (cl, sv):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setblocking(False)
        pairs[world] = {"c": cl, "s": sv, "done": [], "recv": [], "stopped": False,
                        "cport": cl.getsockname()[1]}
    for side, data in segs:
        # The connections still going, each with what this segment has done on it so far.
        waiting = []
        for p in pairs.values():
            if not p["stopped"]:
                sender, receiver = (p["c"], p["s"]) if side == "c" else (p["s"], p["c"])
                waiting.append({"pair": p, "sender": sender, "receiver": receiver,
                                "retrans": total_retrans(sender), "unsent": data, "got": b""})
        hang = time.monotonic() + HANG_SECONDS
        while waiting:
            if time.monotonic() > hang:
                raise TimeoutError(f"a segment neither settled nor arrived in {HANG_SECONDS} s")
            # A 64 KiB segment may not fit the send buffer at once: the rest goes as room frees.
            for w in waiting:
                if w["unsent"]:
                    try:
                        w["unsent"] = w["unsent"][w["sender"].send(w["unsent"]):]
                    except BlockingIOError:
                        pass
            # The short wait only paces the look at the sockets' counters.
            ready, _, _ = select.select([w["receiver"] for w in waiting], [], [], 0.05)
            for w in list(waiting):
                if w["receiver"] in ready:
                    try:
                        w["got"] += w["receiver"].recv(1 << 17)
                    except BlockingIOError:
                        pass
                state = None if w["unsent"] else settled(w["sender"], w["retrans"])
                if state == "d":
                    # Acknowledged: all of it is queued at the receiver.
                    while unread(w["receiver"]):
                        w["got"] += w["receiver"].recv(1 << 17)
                if (len(w["got"]) >= len(data) and not nat_port) or state == "d":
                    w["pair"]["done"].append("d")
                    w["pair"]["recv"].append(w["got"])
                    waiting.remove(w)
                elif state == "x":
                    w["pair"]["done"].append("x")
                    w["pair"]["stopped"] = True
                    waiting.remove(w)
    for p in pairs.values():
        # No retransmission on either end: the router saw each segment exactly once.
        p["retrans"] = total_retrans(p["c"]) + total_retrans(p["s"])
        for s in (p["c"], p["s"]):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
    return pairs


# --- observing the router ---------------------------------------------------------------

class ExpectEvents:
    """Each router's new expectations (tests/vm/ct_events.py): subscribed when constructed."""

    def __init__(self):
        self.listeners = {}

        def subscribe(world, prefix):
            enter_netns(f"{prefix}-rt")
            self.listeners[world] = Listener()

        for world, (prefix, _) in WORLDS.items():
            t = threading.Thread(target=subscribe, args=(world, prefix))
            t.start()
            t.join()
        if set(self.listeners) != set(WORLDS):
            raise RuntimeError(f"expectation listeners subscribed only in {sorted(self.listeners)}")

    def take(self):
        """(world, master source address, master source port, expectation) of every event
        queued so far; raises ct_events.LostEvents if the kernel dropped any."""
        out = []
        for world, listener in self.listeners.items():
            for e in listener.take():
                out.append((world, norm_addr(e.master[0]), e.master[3], e.what()))
        return out

    def stop(self):
        for listener in self.listeners.values():
            listener.close()


class HelperLog:
    """The helper's drop lines from /dev/kmsg, read from the moment the fuzz starts."""

    LINE = re.compile(r"dropping packet: (.*?) ?IN=.*?SRC=(\S+) DST=(\S+) .*?SPT=(\d+) DPT=(\d+)")
    WORLD_OF_PORT = {port: world for world, (_, port) in WORLDS.items()}

    def __init__(self):
        self.kmsg = Kmsg()

    def take(self):
        out = []
        for rec in self.kmsg.take():
            m = self.LINE.search(rec)
            if m:
                msg, src, dst, spt, dpt = m.groups()
                # Keyed by the world (its server port) and the client's end: the source of a
                # command, the target of a reply.
                if int(dpt) in self.WORLD_OF_PORT:
                    out.append((self.WORLD_OF_PORT[int(dpt)], norm_addr(src), int(spt), msg))
                elif int(spt) in self.WORLD_OF_PORT:
                    out.append((self.WORLD_OF_PORT[int(spt)], norm_addr(dst), int(dpt), msg))
        return out


def norm_addr(a):
    try:
        return socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, a))
    except OSError:
        return a


CHANNELS = ("delivery", "expectation", "log", "content")
# A canary run sets the two worlds up to differ in a known way; each canary must find
# differences in the channels it names, and only of its kind:
#   loose      loose=1 for Rust only: third-party addresses are followed by Rust alone, so
#              expectations differ, and never delivery or the log;
#   nohelper6  the Rust world's router assigns its helper to IPv4 only: IPv6 inputs differ in
#              delivery, expectations and the log (C drops and logs partial commands,
#              creates expectations; the unhelped connection does none of it), IPv4 never;
#   snat240    (--nat) the Rust world's router masquerades to another address, 10.0.2.240:
#              what the server receives of an announcement (content) and the expectations
#              differ, and only for IPv4 inputs.
CANARIES = {"loose": {"must": {"expectation"}, "may": set(), "v4": True, "v6": True},
            "nohelper6": {"must": {"delivery", "expectation", "log"}, "may": {"content"},
                          "v4": False, "v6": True},
            "snat240": {"must": {"content", "expectation"}, "may": set(), "v4": True, "v6": False}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--max-inputs", type=int, default=0)
    ap.add_argument("--report", default="")
    ap.add_argument("--canary", choices=sorted(CANARIES),
                    help="canary run (the worlds are set up to differ this way): fail unless the "
                    "differences it must cause are found, and only those")
    ap.add_argument("--nat", action="store_true",
                    help="the routers masquerade the clients (tests/vm/test-fuzz-live.sh sets it up)")
    ap.add_argument("--floors", default="",
                    help="coverage floors, e.g. expectation=0.2,dropped=0.05,logged=0.05: the "
                    "fraction of inputs that, with C, must have done each (else the run fails)")
    args = ap.parse_args()

    seeds = load_seeds()
    servers = Servers()
    events = ExpectEvents()
    log = HelperLog()
    master = random.Random(args.seed)
    inputs = diffs = 0
    last_logs = set()
    stats = {"dropped": 0, "expectation": 0, "logged": 0, "rewritten": 0, "exact": 0, "repeated": 0}

    def key(world, addr, port):
        """What an observation belongs to: its world and the client's end of the connection
        (with --nat only its port: the router's address may stand for the client's)."""
        return (world, port) if args.nat else (world, norm_addr(addr), port)
    batches = 0
    by_channel = {c: 0 for c in CHANNELS}
    wrong_kind = []
    start = time.monotonic()
    report = open(args.report, "w") if args.report else None
    while time.monotonic() - start < args.seconds and (not args.max_inputs or inputs < args.max_inputs):
        batch = []
        for w in range(args.workers):
            seed, v6 = master.getrandbits(48), master.random() < 0.4
            me = client_addrs(w)[1 if v6 else 0]
            batch.append((seed, v6, me, make_input(seed, v6, me, SERVER6 if v6 else SERVER4, seeds)))
        results = [None] * len(batch)

        # With --nat each worker binds a port of its own, a new one each batch (fewer than 100
        # workers).
        nat_base = 30000 + 100 * (batches % 50)

        def worker(k):
            results[k] = run_pair(servers, batch[k][3], batch[k][2], nat_base + k if args.nat else 0)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(batch))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Every segment has arrived or been dropped: the events and log lines it caused are
        # queued already.
        exps, logs = events.take(), log.take()
        # Everything observed must belong to an input of this batch; only a drop line that
        # the previous batch's last retransmission repeated may come late.
        batches += 1
        exps = [(key(*x[:3]), x[3]) for x in exps]
        logs = [(key(*x[:3]), x[3]) for x in logs]
        keys = {key(world, me, p["cport"]) for k, (_, _, me, _) in enumerate(batch)
                for world, p in results[k].items()}
        stray = [x for x in exps if x[0] not in keys] + \
                [x for x in logs if x[0] not in keys and x not in last_logs]
        if stray:
            raise RuntimeError(f"observed what no input of the batch caused: {stray[:5]}")
        last_logs = set(logs)
        for k, (seed, v6, me, segs) in enumerate(batch):
            inputs += 1
            # With no retransmission in either world each segment passed the router once, so
            # the helpers must agree on how many times each expectation was created and each
            # line logged (two equal PORTs: two events). A retransmission (TCP's timing, not
            # the helper's) repeats them, so then each counts once.
            exact = all(p["retrans"] == 0 for p in results[k].values())
            stats["exact"] += exact
            seen = {}
            for world, p in results[k].items():
                here = key(world, me, p["cport"])
                e = [t for k2, t in exps if k2 == here]
                g = [m for k2, m in logs if k2 == here]
                if world == "C" and exact and len(set(e)) < len(e):
                    stats["repeated"] += 1
                if not exact:
                    e, g = set(e), set(g)
                seen[world] = ("".join(p["done"]), sorted(e), sorted(g), tuple(p["recv"]))
            done, e, g, recv = seen["C"]
            sent = [data for side, data in segs]
            stats["rewritten"] += any(r != d for r, d in zip(recv, sent))
            stats["dropped"] += "x" in done
            stats["expectation"] += bool(e)
            stats["logged"] += bool(g)
            if seen["C"] != seen["Rust"]:
                diffs += 1
                differs = [c for i, c in enumerate(CHANNELS) if seen["C"][i] != seen["Rust"][i]]
                for c in differs:
                    by_channel[c] += 1
                if args.canary:
                    canary = CANARIES[args.canary]
                    if not canary["v6" if v6 else "v4"] or \
                            not set(differs) <= canary["must"] | canary["may"]:
                        wrong_kind.append((seed, v6, differs))
                if not args.canary or diffs <= 3:
                    def short(x):
                        return (x[0], x[1], x[2], [r[:120] for r in x[3]])
                    print(f"DIFF seed={seed} v6={v6} ({', '.join(differs)})\n  input: {segs!r}\n"
                          f"  C:    {short(seen['C'])}\n  Rust: {short(seen['Rust'])}", flush=True)
            if report:
                report.write(f"{seed} {int(v6)} {seen['C']!r}\n")
        # Old connections and their expectations could clash with new ones: start clean.
        for prefix, _ in WORLDS.values():
            subprocess.run(f"ip netns exec {prefix}-rt conntrack -F; ip netns exec {prefix}-rt conntrack -F expect",
                           shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took = time.monotonic() - start
    events.stop()
    if report:
        report.close()
    print(f"fuzz-live: {inputs} inputs, {diffs} differences "
          f"({', '.join(f'{c} {n}' for c, n in by_channel.items())}), {inputs / took:.1f} inputs/s "
          f"({took:.0f} s, seed {args.seed}); with C: {stats['dropped']} dropped a segment, "
          f"{stats['expectation']} created an expectation, {stats['logged']} logged, "
          f"{stats['rewritten']} had a segment arrive rewritten; "
          f"{stats['exact']} without retransmissions (counts compared), "
          f"{stats['repeated']} of them creating an expectation twice")
    bad = []
    if args.canary:
        missing = [c for c in sorted(CANARIES[args.canary]["must"]) if not by_channel[c]]
        if missing:
            bad.append(f"canary {args.canary}: no difference in {', '.join(missing)}: that comparison is blind")
        if wrong_kind:
            bad.append(f"canary {args.canary}: {len(wrong_kind)} differences of another kind, "
                       f"e.g. {wrong_kind[:3]}")
    elif diffs:
        bad.append(f"{diffs} inputs differ")
    for item in filter(None, args.floors.split(",")):
        name, floor = item.split("=")
        if stats[name] < float(floor) * inputs:
            bad.append(f"coverage: {stats[name]} of {inputs} inputs {name} with C, "
                       f"below the floor of {float(floor):.0%}")
    for b in bad:
        print(f"FAIL: {b}", flush=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
