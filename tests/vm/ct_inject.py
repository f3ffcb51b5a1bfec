#!/usr/bin/env python3
"""Injects an established IPv4 TCP conntrack with a helper through ctnetlink, as conntrackd
does on failover (conntrack-tools 1.4.7's `conntrack -I` has no --helper option).

  ct_inject.py SRC DST SPORT DPORT HELPER
"""
import os
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_NEW = 0
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
NLA_F_NESTED = 0x8000
CTA_TUPLE_ORIG, CTA_TUPLE_REPLY, CTA_STATUS, CTA_PROTOINFO, CTA_HELP, CTA_TIMEOUT = 1, 2, 3, 4, 5, 7
CTA_TUPLE_IP, CTA_TUPLE_PROTO = 1, 2
CTA_IP_V4_SRC, CTA_IP_V4_DST = 1, 2
CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT = 1, 2, 3
CTA_PROTOINFO_TCP, CTA_PROTOINFO_TCP_STATE = 1, 1
CTA_HELP_NAME, CTA_HELP_INFO = 1, 2
IPS_SEEN_REPLY, IPS_ASSURED, IPS_CONFIRMED = 1 << 1, 1 << 2, 1 << 3
TCP_CONNTRACK_ESTABLISHED = 3


def attr(kind, payload, nested=False):
    head = struct.pack("=HH", 4 + len(payload), kind | (NLA_F_NESTED if nested else 0))
    return head + payload + b"\0" * (-len(payload) % 4)


def nest(kind, *attrs):
    return attr(kind, b"".join(attrs), nested=True)


def tuple_(kind, src, dst, sport, dport):
    return nest(
        kind,
        nest(CTA_TUPLE_IP, attr(CTA_IP_V4_SRC, socket.inet_aton(src)), attr(CTA_IP_V4_DST, socket.inet_aton(dst))),
        nest(
            CTA_TUPLE_PROTO,
            attr(CTA_PROTO_NUM, bytes([socket.IPPROTO_TCP])),
            attr(CTA_PROTO_SRC_PORT, struct.pack("!H", sport)),
            attr(CTA_PROTO_DST_PORT, struct.pack("!H", dport)),
        ),
    )


def inject(src, dst, sport, dport, helper, info=None):
    """Creates the conntrack in the calling process's namespace, with `info` as the helper's
    data (CTA_HELP_INFO) if given; raises OSError if refused."""
    body = struct.pack("=BBH", socket.AF_INET, 0, 0) + b"".join([
        tuple_(CTA_TUPLE_ORIG, src, dst, sport, dport),
        tuple_(CTA_TUPLE_REPLY, dst, src, dport, sport),
        # The kernel marks a created entry confirmed before it applies CTA_STATUS.
        attr(CTA_STATUS, struct.pack("!I", IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED)),
        attr(CTA_TIMEOUT, struct.pack("!I", 120)),
        nest(CTA_PROTOINFO, nest(CTA_PROTOINFO_TCP, attr(CTA_PROTOINFO_TCP_STATE, bytes([TCP_CONNTRACK_ESTABLISHED])))),
        nest(CTA_HELP, attr(CTA_HELP_NAME, helper.encode() + b"\0"),
             *([attr(CTA_HELP_INFO, info)] if info is not None else [])),
    ])
    flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
    msg = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW, flags, 1, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER) as s:
        s.bind((0, 0))
        s.send(msg)
        reply = s.recv(65536)
    _, kind, _, _, _ = struct.unpack("=IHHII", reply[:16])
    if kind == 2:  # NLMSG_ERROR
        (err,) = struct.unpack("=i", reply[16:20])
        if err:
            raise OSError(-err, f"ct_inject: ctnetlink refused the conntrack: {os.strerror(-err)}")


def main():
    try:
        inject(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    except OSError as e:
        sys.exit(str(e))


if __name__ == "__main__":
    main()
