#!/usr/bin/env python3
"""The router's new expectations, read from ctnetlink's event group, with no timing guess.

  ct_events.py FILE     (in the router's namespace; tests/vm/net.sh expect_events_start)

Subscribes to the expectation NEW events of the namespace it runs in, then writes "ready" to
stdout: from that line on, no event is missed. Each event becomes a line of FILE, in the
words of `conntrack -E expect`. On SIGTERM it reads what is already queued and exits: the
kernel queues an expectation's event in the packet path, before the packet goes on, so
everything that happened before the signal is in FILE. Lost events (ENOBUFS) are an error,
never a silent gap: the process exits 3 and says so.

fuzz_live.py uses the same Listener class in-process.
"""
import errno
import os
import select
import signal
import socket
import struct
import sys

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NFNLGRP_CONNTRACK_EXP_NEW = 4
NFNL_SUBSYS_CTNETLINK_EXP = 2
IPCTNL_MSG_EXP_NEW = 0
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLA_TYPE_MASK = 0x3FFF

CTA_EXPECT_MASTER, CTA_EXPECT_TUPLE, CTA_EXPECT_MASK, CTA_EXPECT_TIMEOUT = 1, 2, 3, 4
CTA_EXPECT_HELP_NAME, CTA_EXPECT_FLAGS, CTA_EXPECT_CLASS, CTA_EXPECT_FN = 6, 8, 9, 11
CTA_TUPLE_IP, CTA_TUPLE_PROTO = 1, 2
CTA_IP_V4_SRC, CTA_IP_V4_DST, CTA_IP_V6_SRC, CTA_IP_V6_DST = 1, 2, 3, 4
CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT = 1, 2, 3


class LostEvents(Exception):
    """The kernel dropped events for this socket (ENOBUFS): the record is incomplete."""


def attrs(data):
    """Netlink attributes of `data`: {type: payload}."""
    out, i = {}, 0
    while i + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, i)
        if length < 4:
            break
        out[kind & NLA_TYPE_MASK] = data[i + 4:i + length]
        i += (length + 3) & ~3
    return out


def tuple_words(data):
    """(src, dst, proto, sport, dport) of a CTA_TUPLE_* nest."""
    a = attrs(data)
    ip, proto = attrs(a.get(CTA_TUPLE_IP, b"")), attrs(a.get(CTA_TUPLE_PROTO, b""))
    if CTA_IP_V4_SRC in ip:
        src, dst = (socket.inet_ntop(socket.AF_INET, ip[k]) for k in (CTA_IP_V4_SRC, CTA_IP_V4_DST))
    else:
        src, dst = (socket.inet_ntop(socket.AF_INET6, ip.get(k, bytes(16))) for k in (CTA_IP_V6_SRC, CTA_IP_V6_DST))
    num = proto.get(CTA_PROTO_NUM, b"\0")[0]
    sport, dport = (struct.unpack("!H", proto.get(k, b"\0\0"))[0] for k in (CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT))
    return src, dst, num, sport, dport


class Expectation:
    """One NEW expectation event: what it admits, its master, and its attributes."""

    def __init__(self, payload):
        a = attrs(payload[4:])  # after struct nfgenmsg
        self.tuple = tuple_words(a.get(CTA_EXPECT_TUPLE, b""))
        self.mask = tuple_words(a.get(CTA_EXPECT_MASK, b""))
        self.master = tuple_words(a.get(CTA_EXPECT_MASTER, b""))
        self.flags = struct.unpack("!I", a[CTA_EXPECT_FLAGS])[0] if CTA_EXPECT_FLAGS in a else None
        self.cls = struct.unpack("!I", a[CTA_EXPECT_CLASS])[0] if CTA_EXPECT_CLASS in a else None
        self.helper = a.get(CTA_EXPECT_HELP_NAME, b"").rstrip(b"\0").decode(errors="replace")
        self.fn = a.get(CTA_EXPECT_FN, b"").rstrip(b"\0").decode(errors="replace")
        # Seconds left (the policy's timeout when the event is sent).
        self.timeout = struct.unpack("!I", a[CTA_EXPECT_TIMEOUT])[0] if CTA_EXPECT_TIMEOUT in a else None

    def what(self):
        """The expectation without its master and helper name: what two helpers that saw the
        same traffic must agree on."""
        (src, dst, num, sport, dport), (msrc, mdst, _, msport, mdport) = self.tuple, self.mask
        words = f"proto={num} src={src} dst={dst} sport={sport} dport={dport} " \
                f"mask-src={msrc} mask-dst={mdst} sport={msport} dport={mdport}"
        if self.flags is not None:
            words += f" flags={self.flags}"
        if self.cls is not None:
            words += f" class={self.cls}"
        if self.fn:
            words += f" fn={self.fn}"
        return words

    def line(self):
        """As `conntrack -E expect` shows a NEW event (without the timeout)."""
        msrc, mdst, _, msport, mdport = self.master
        return f"[NEW] {self.what()} master-src={msrc} master-dst={mdst} sport={msport} " \
               f"dport={mdport} helper={self.helper}"


class Listener:
    """A ctnetlink socket subscribed to the calling thread's namespace's NEW expectation
    events: subscribed when the constructor returns."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK, NETLINK_NETFILTER)
        # Room for bursts: a batch of the fuzz can create hundreds of expectations at once.
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((0, 0))
        self.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NFNLGRP_CONNTRACK_EXP_NEW)

    def fileno(self):
        return self.sock.fileno()

    def take(self):
        """Every event queued so far, without waiting."""
        out = []
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                return out
            except OSError as e:
                if e.errno == errno.ENOBUFS:
                    raise LostEvents("ctnetlink dropped expectation events (ENOBUFS)") from e
                raise
            i = 0
            while i + 16 <= len(data):
                length, kind, _, _, _ = struct.unpack_from("=IHHII", data, i)
                if length < 16:
                    break
                if kind == (NFNL_SUBSYS_CTNETLINK_EXP << 8 | IPCTNL_MSG_EXP_NEW):
                    out.append(Expectation(data[i + 16:i + length]))
                i += (length + 3) & ~3

    def close(self):
        self.sock.close()


def main():
    out = open(sys.argv[1], "w")
    listener = Listener()
    # SIGTERM wakes the select below through this pipe (the handler itself does nothing).
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGTERM, lambda *_: None)
    print("ready", flush=True)
    status = 0
    try:
        while True:
            ready, _, _ = select.select([listener, wake_r], [], [])
            for e in listener.take():
                out.write(e.line() + "\n")
            out.flush()
            if wake_r in ready:
                break
    except LostEvents as e:
        print(f"ct_events: {e}", file=sys.stderr)
        out.write(f"LOST EVENTS: {e}\n")
        status = 3
    out.close()
    sys.exit(status)


if __name__ == "__main__":
    main()
