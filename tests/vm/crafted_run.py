#!/usr/bin/env python3
"""Runs the crafted scenarios of tests/vm/test-ftp-crafted.sh in one process, one after
the other, and records what each showed.

    crafted_run.py SPEC OUTDIR

SPEC has a scenario a line, tab-separated: NAME, FAMILY (4 or 6), SERVER-PORT, then the
steps (as in tests/vm/ftpctl.py: 'c:TEXT' the client sends TEXT, 's:TEXT' the server does,
with \\r and \\n escapes, each one send() and so one segment). The step 'c:@pickup' hands
the connection to conntrack mid-session (below). For scenario N, OUTDIR/N/ gets:
  cli, srv   the bytes the client and the server received
  exp        the router's expectations while the connection was still open
  events     the expectations the router created (ctnetlink NEW events), in order
  log        the kernel log lines printed during the scenario

One process instead of three per scenario (server, client, event listener) and no conntrack
or dmesg runs: its sockets are made in the namespaces of tests/vm/net.sh (a socket stays in
the namespace it was made in), so a scenario costs its segments and little else under TCG.
Each scenario starts from a router with no conntrack entries and no expectations. Steps go in
lock step: one is over once it settled (tests/vm/tcp_settle.py: acknowledged, or
retransmitted three times unacknowledged), with nothing timed. At the end both sockets are
reset (SO_LINGER 0), so that no retransmission of a dropped segment outlives its scenario.

The pick-up (conntrackd's failover): the connection starts untracked (a raw-table notrack
rule for port 2200); at '@pickup' the rule goes, a conntrack with helper "ftp" is injected
through ctnetlink (tests/vm/ct_inject.py) and the next segments are tracked and helped.
"""
import ctypes
import os
import socket
import struct
import subprocess
import sys
import time

import ct_inject
from kmsg import Kmsg
from ct_events import NETLINK_NETFILTER, Expectation, Listener, NFNL_SUBSYS_CTNETLINK_EXP, NLMSG_DONE, NLMSG_ERROR
from tcp_settle import HANG_SECONDS, settled, total_retrans

CLONE_NEWNET = 0x40000000
NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_DELETE = 2
IPCTNL_MSG_EXP_NEW, IPCTNL_MSG_EXP_GET, IPCTNL_MSG_EXP_DELETE = 0, 1, 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
PICKUP_RULES = """table inet pickup {
	chain raw {
		type filter hook prerouting priority raw; policy accept;
		tcp dport 2200 notrack
		tcp sport 2200 notrack
	}
}
"""

libc = ctypes.CDLL(None, use_errno=True)


def enter(ns):
    """Moves this (single-threaded) process into network namespace `ns` (ip netns add)."""
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns {ns}: {os.strerror(e)}")
    finally:
        os.close(fd)


class Ctnetlink:
    """Requests to the router's conntrack (a socket made in its namespace)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.bind((0, 0))
        self.seq = 0

    def request(self, kind, flags):
        """Sends a message without attributes (family AF_UNSPEC: every family) and returns
        the payloads of the messages that answer it; fails on an error."""
        self.seq += 1
        body = struct.pack("=BBH", socket.AF_UNSPEC, 0, 0)
        self.sock.send(struct.pack("=IHHII", 16 + len(body), kind, NLM_F_REQUEST | flags, self.seq, 0) + body)
        out = []
        while True:
            data = self.sock.recv(1 << 20)
            i = 0
            while i + 16 <= len(data):
                length, mtype, _, seq, _ = struct.unpack_from("=IHHII", data, i)
                payload = data[i + 16:i + length]
                i += (length + 3) & ~3
                if seq != self.seq:
                    continue
                if mtype == NLMSG_ERROR:
                    (err,) = struct.unpack_from("=i", payload)
                    if err:
                        raise OSError(-err, f"ctnetlink request {kind:#x}: {os.strerror(-err)}")
                    return out
                if mtype == NLMSG_DONE:
                    return out
                out.append(payload)

    def flush(self):
        self.request(NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE, NLM_F_ACK)
        self.request(NFNL_SUBSYS_CTNETLINK_EXP << 8 | IPCTNL_MSG_EXP_DELETE, NLM_F_ACK)

    def expectations(self):
        return [Expectation(p) for p in self.request(NFNL_SUBSYS_CTNETLINK_EXP << 8 | IPCTNL_MSG_EXP_GET, NLM_F_DUMP)]


def words(e):
    """An expectation as the results compare it: conntrack's words, the client's ephemeral
    port (the master's source port) masked, and its time left rounded up to a minute (the
    helper's policy gives 300 s; the seconds that passed since depend on the machine)."""
    msrc, mdst, _, _, mdport = e.master
    left = "" if e.timeout is None else f" timeout<={-(-e.timeout // 60) * 60}"
    return f"{e.what()} master-src={msrc} master-dst={mdst} sport=N dport={mdport} helper={e.helper}{left}"


def unescape(text):
    return text.encode().decode("unicode_escape").encode("latin-1")


def drain(sock, got):
    """Appends what has arrived on `sock` to `got`, without waiting."""
    while True:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, ConnectionError):
            return
        if not data:
            return
        got.extend(data)


def wait_for(what, poll, socks):
    """Polls poll(), reading what arrives meanwhile, until it returns something true; only a
    hang reaches the cap."""
    deadline = time.monotonic() + HANG_SECONDS
    while not (value := poll()):
        if time.monotonic() > deadline:
            sys.exit(f"crafted_run: gave up waiting for {what} after {HANG_SECONDS} s")
        for sock, got in socks:
            drain(sock, got)
        time.sleep(0.005)
    return value


def router(*cmd, stdin=None):
    subprocess.run(["ip", "netns", "exec", "ftp-rt", *cmd], input=stdin, text=True, check=True)


class Scenarios:
    def __init__(self):
        enter("ftp-rt")
        self.ct = Ctnetlink()
        self.events = Listener()
        self.kmsg = Kmsg()
        self.listeners = {}

    def listener(self, port):
        if port not in self.listeners:
            enter("ftp-sv")
            srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            srv.bind(("::", port))
            srv.listen(1)
            srv.settimeout(HANG_SECONDS)
            self.listeners[port] = srv
        return self.listeners[port]

    def run(self, family, port, steps, outdir):
        pickup = "c:@pickup" in steps
        srv = self.listener(port)
        self.ct.flush()
        if pickup:
            router("nft", "-f", "-", stdin=PICKUP_RULES)
        self.events.take()
        self.kmsg.take()

        enter("ftp-cl")
        addr = "10.0.2.2" if family == 4 else "fd00:2::2"
        cli = socket.create_connection((addr, port), timeout=HANG_SECONDS)
        conn, _ = srv.accept()
        got = {"c": bytearray(), "s": bytearray()}
        sides = {"c": cli, "s": conn}
        for sock in sides.values():
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
        both = [(conn, got["s"]), (cli, got["c"])]

        for i, step in enumerate(steps):
            who, text = step.split(":", 1)
            if text == "@pickup":
                router("nft", "delete", "table", "inet", "pickup")
                enter("ftp-rt")
                src, sport = cli.getsockname()[:2]
                ct_inject.inject(src, addr, sport, port, "ftp")
                continue
            sock = sides[who]
            before = total_retrans(sock)
            sock.setblocking(True)
            sock.sendall(unescape(text))
            sock.setblocking(False)
            wait_for(f"step {i} to settle", lambda: settled(sock, before), both)
        # Every step has settled: all that was delivered is in the receive queues.
        for sock, buf in both:
            drain(sock, buf)
        exps = sorted(words(e) for e in self.ct.expectations())
        events = [words(e) for e in self.events.take()]
        log = self.kmsg.take()
        for sock in (cli, conn):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()

        os.makedirs(outdir, exist_ok=True)
        for name, data in (("cli", got["c"]), ("srv", got["s"])):
            with open(os.path.join(outdir, name), "wb") as f:
                f.write(data)
        for name, lines in (("exp", exps), ("events", events), ("log", log)):
            with open(os.path.join(outdir, name), "w") as f:
                f.write("".join(line + "\n" for line in lines))


def main():
    spec, outdir = sys.argv[1], sys.argv[2]
    scenarios = Scenarios()
    with open(spec) as f:
        lines = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    for n, (name, family, port, *steps) in enumerate(lines):
        start = time.monotonic()
        scenarios.run(int(family), int(port), steps, os.path.join(outdir, str(n)))
        print(f"  ran '{name}' in {time.monotonic() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
