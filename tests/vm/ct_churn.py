#!/usr/bin/env python3
"""The control plane as conntrackd drives it, while this module is unloaded and reloaded:
conntracks with a helper and expectations with a named expectfn, created through ctnetlink.

    ct_churn.py run STOPFILE RECORD [WORKER]   (in the router's namespace; WORKER 0 or 1)
    ct_churn.py check RECORD...

`run` loops until STOPFILE exists (20 minutes at most, far past the test's budget), each
round:
  - masters with the C helper "ftp" (port 21), with an expectation each: one with this
    module's expectfn "ftp-nat-ports" (found only while the module is loaded: else EINVAL),
    one with the kernel's "nat-follow-master" (always there: a control);
  - masters with this module's helper "ftp-2122", one with help data of any length and
    content (the pick-up's CTA_HELP; the helper is found only while loaded: else
    EOPNOTSUPP) and an expectation with "ftp-nat-ports", one with expectations with an
    expectfn that does not exist and with a class the helper does not have (both EINVAL);
  - the masters of the round 300 rounds back are deleted.
Every answer is counted by what was asked and the error; an answer outside the set each
request may get fails the run. The ports of the expectations created with "ftp-nat-ports"
go to RECORD, and a line to RECORD.absent after each round that began without the module
(its expectfn not found). `check`, run while the module is unloaded, fails if any of them is still in
the table: once the module is gone, no expectation may still call into it. Two workers
(each its own ports) keep two requests in flight at once.
"""
import errno
import os
import random
import socket
import struct
import sys
import time
from collections import Counter

from ct_events import NETLINK_NETFILTER, Expectation, NFNL_SUBSYS_CTNETLINK_EXP
from ct_inject import attr, nest, tuple_, CTA_TUPLE_IP, CTA_TUPLE_PROTO, CTA_IP_V4_SRC, CTA_IP_V4_DST
from ct_inject import CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT, inject

IPCTNL_MSG_EXP_NEW, IPCTNL_MSG_EXP_GET = 0, 1
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE, NLM_F_DUMP = 0x1, 0x4, 0x200, 0x400, 0x300
CTA_EXPECT_MASTER, CTA_EXPECT_TUPLE, CTA_EXPECT_MASK, CTA_EXPECT_TIMEOUT = 1, 2, 3, 4
CTA_EXPECT_CLASS, CTA_EXPECT_FN = 9, 11
CTA_TUPLE_ORIG = 1
NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE = 1, 2
CLIENT, SERVER = "10.0.1.2", "10.0.2.2"
CAP_SECONDS = 1200
WINDOW = 300


def request(sock, kind, flags, body):
    """Sends one ctnetlink request (family AF_INET) and returns its error (0 for success), or
    the payloads of a dump."""
    msg = struct.pack("=IHHII", 16 + 4 + len(body), kind, NLM_F_REQUEST | flags, 1, 0)
    sock.send(msg + struct.pack("=BBH", socket.AF_INET, 0, 0) + body)
    out = []
    while True:
        data = sock.recv(1 << 20)
        i = 0
        while i + 16 <= len(data):
            length, mtype, _, _, _ = struct.unpack_from("=IHHII", data, i)
            payload = data[i + 16:i + length]
            i += (length + 3) & ~3
            if mtype == 2:  # NLMSG_ERROR
                return -struct.unpack_from("=i", payload)[0] if not out else out
            if mtype == 3:  # NLMSG_DONE
                return out
            out.append(payload)


def mask():
    return nest(
        CTA_EXPECT_MASK,
        nest(CTA_TUPLE_IP, attr(CTA_IP_V4_SRC, b"\xff" * 4), attr(CTA_IP_V4_DST, b"\xff" * 4)),
        nest(
            CTA_TUPLE_PROTO,
            attr(CTA_PROTO_NUM, bytes([socket.IPPROTO_TCP])),
            attr(CTA_PROTO_SRC_PORT, struct.pack("!H", 0)),
            attr(CTA_PROTO_DST_PORT, struct.pack("!H", 0xFFFF)),
        ),
    )


def expect(sock, master_sport, master_dport, dport, fn, cls=None):
    """Creates an expectation of SERVER -> CLIENT:dport on the master CLIENT:master_sport ->
    SERVER:master_dport, with expectfn `fn`; returns the error."""
    body = b"".join([
        tuple_(CTA_EXPECT_MASTER, CLIENT, SERVER, master_sport, master_dport),
        tuple_(CTA_EXPECT_TUPLE, SERVER, CLIENT, 0, dport),
        mask(),
        attr(CTA_EXPECT_TIMEOUT, struct.pack("!I", 300)),
        attr(CTA_EXPECT_FN, fn.encode() + b"\0"),
    ] + ([attr(CTA_EXPECT_CLASS, struct.pack("!I", cls))] if cls is not None else []))
    kind = NFNL_SUBSYS_CTNETLINK_EXP << 8 | IPCTNL_MSG_EXP_NEW
    return request(sock, kind, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body)


def master(sport, dport, helper, info=None):
    try:
        inject(CLIENT, SERVER, sport, dport, helper, info)
        return 0
    except OSError as e:
        return e.errno


# What each request may get: success, or the error of the module being away (its helper or
# its expectfn not found, or the master's helper gone with it); the bad requests their error.
ALLOWED = {
    "master ftp (C)": {0},
    "exp ftp-nat-ports on C's master": {0, errno.EINVAL},
    "exp nat-follow-master on C's master": {0},
    "master ftp-2122 (this module)": {0, errno.EOPNOTSUPP},
    "exp ftp-nat-ports on this module's master": {0, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOENT},
    "exp unknown expectfn": {errno.EINVAL, errno.EOPNOTSUPP, errno.ENOENT},
    "exp class 1": {errno.EINVAL, errno.EOPNOTSUPP, errno.ENOENT},
}


def delete_master(sock, sport, dport):
    """Deletes the master CLIENT:sport -> SERVER:dport (and its expectations), if it exists."""
    kind = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE
    request(sock, kind, NLM_F_ACK, tuple_(CTA_TUPLE_ORIG, CLIENT, SERVER, sport, dport))


def run(stopfile, record, worker):
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    rng = random.Random(17)
    counts = Counter()
    bad = []
    ours = open(record, "w")
    absent = open(record + ".absent", "w")
    deadline = time.monotonic() + CAP_SECONDS
    n = 0
    while not os.path.exists(stopfile) and time.monotonic() < deadline:
        # Four masters a round (source ports base..base+3), four expected ports. An
        # expectation gets a master of its own: the helpers allow one per master, and a
        # second would evict the first. The masters of the round WINDOW rounds back go.
        base = 10000 + 25000 * worker + 4 * (n % 6000)
        dport = 40000 + 12000 * worker + 4 * (n % 3000)
        if n >= WINDOW:
            old = 10000 + 25000 * worker + 4 * ((n - WINDOW) % 6000)
            for i, port in enumerate((21, 21, 2122, 2122)):
                delete_master(sock, old + i, port)
        n += 1
        results = []
        err = master(base, 21, "ftp")
        results.append(("master ftp (C)", err))
        if err == 0:
            err = expect(sock, base, 21, dport, "ftp-nat-ports")
            results.append(("exp ftp-nat-ports on C's master", err))
            if err == 0:
                ours.write(f"{dport}\n")
                ours.flush()
        if master(base + 1, 21, "ftp") == 0:
            err = expect(sock, base + 1, 21, dport + 1, "nat-follow-master")
            results.append(("exp nat-follow-master on C's master", err))
        info = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 4, 32, 200])))
        err = master(base + 2, 2122, "ftp-2122", info or None)
        results.append(("master ftp-2122 (this module)", err))
        if err == 0:
            err = expect(sock, base + 2, 2122, dport + 2, "ftp-nat-ports")
            results.append(("exp ftp-nat-ports on this module's master", err))
            if err == 0:
                ours.write(f"{dport + 2}\n")
                ours.flush()
        if master(base + 3, 2122, "ftp-2122") == 0:
            err = expect(sock, base + 3, 2122, dport + 3, "no-such-expectfn")
            results.append(("exp unknown expectfn", err))
            err = expect(sock, base + 3, 2122, dport + 3, "nat-follow-master", cls=1)
            results.append(("exp class 1", err))
        for what, err in results:
            counts[what, err] += 1
            if err not in ALLOWED[what]:
                bad.append(f"{what}: {errno.errorcode.get(err, err)}")
        # A whole round without the module (its expectfn not found at the start of it).
        if ("exp ftp-nat-ports on C's master", errno.EINVAL) in results:
            absent.write("x\n")
            absent.flush()
    for (what, err), k in sorted(counts.items()):
        print(f"{what}: {'ok' if err == 0 else errno.errorcode.get(err, err)} x{k}")
    print(f"rounds: {n}")
    if bad:
        sys.exit(f"ct_churn: unexpected answers: {sorted(set(bad))}")


def check(records):
    ours = set()
    for record in records:
        with open(record) as f:
            ours |= {int(line) for line in f if line.strip()}
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    dump = request(sock, NFNL_SUBSYS_CTNETLINK_EXP << 8 | IPCTNL_MSG_EXP_GET, NLM_F_DUMP, b"")
    left = sorted(e.tuple[4] for e in map(Expectation, dump) if e.tuple[4] in ours)
    print(f"expectations created with ftp-nat-ports: {len(ours)}, left after unload: {len(left)}")
    if left:
        sys.exit(f"ct_churn: expectations made with this module's expectfn outlived it (ports {left[:10]})")


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        check(sys.argv[2:])
