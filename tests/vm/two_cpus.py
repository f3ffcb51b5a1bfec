#!/usr/bin/env python3
"""One FTP control connection's segments handled on two CPUs at once (tests/vm/test-two-cpus.sh).

  two_cpus.py HELPER ROUNDS

Each round, in tests/vm/net.sh's topology: a control connection 10.0.1.2:PORT -> 10.0.2.2:21
is created in the router through ctnetlink with HELPER (tests/vm/ct_inject.py), then two
threads, pinned to CPU 0 and CPU 1, send at once through raw sockets in the client's namespace
SEGMENTS segments each, ending in '\\n' at sequence numbers of their own and none at a known
line start: the helper only remembers where the next line starts. A segment sent from a CPU is
handled by the router on that CPU (veth hands it to the sending CPU's backlog). Under the C
helper's lock, whatever the order, the two newest of all those line starts are kept. Then a
PORT at each of the two (the older first, one at a time) must be parsed: its expectation
appears. The server's namespace drops the segments (nothing answers them), counting them:
each step waits until all it sent has passed the router.

Prints one line per round that lost a line start and the summary
"two-cpus: R rounds, P of 2R PORTs parsed; NET_RX softirqs per CPU: …".
"""
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

from ct_inject import inject
from fuzz_live import enter_netns
from tcp_settle import HANG_SECONDS

CLIENT, SERVER, DPORT = "10.0.1.2", "10.0.2.2", 21
SEGMENTS = 20
STRIDE = 1000  # between the line starts of one round: far apart in sequence space


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def segment(sport, seq, payload):
    """An IPv4 TCP segment (ACK|PSH) from the client to the server's port 21."""
    src, dst = socket.inet_aton(CLIENT), socket.inet_aton(SERVER)
    tcp = struct.pack("!HHIIBBHHH", sport, DPORT, seq, 1, 5 << 4, 0x18, 65535, 0, 0) + payload
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    # Version/IHL, TOS, length, id, fragment, TTL, protocol, checksum (the kernel fills it in).
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, socket.IPPROTO_TCP, 0, src, dst)
    return ip + tcp


def raw_socket():
    """A raw socket in the client's namespace (made in a thread of its own, which enters it)."""
    out = []

    def make():
        enter_netns("ftp-cl")
        out.append(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW))

    t = threading.Thread(target=make)
    t.start()
    t.join()
    return out[0]


def ns(name, cmd):
    return subprocess.run(["ip", "netns", "exec", name] + cmd, capture_output=True, text=True, check=True).stdout


def dropped():
    """Segments the server's namespace has dropped so far (its nft counter)."""
    out = ns("ftp-sv", ["nft", "list", "counter", "inet", "twocpus", "seen"])
    return int(out.split("packets ")[1].split()[0])


def wait_dropped(n):
    deadline = time.monotonic() + HANG_SECONDS
    while dropped() < n:
        if time.monotonic() > deadline:
            sys.exit(f"two-cpus: only {dropped()} of {n} segments reached the server in {HANG_SECONDS} s")
        time.sleep(0.02)


def expects(dport):
    out = ns("ftp-rt", ["conntrack", "-L", "expect"])
    return f"dport={dport} " in out


def net_rx():
    with open("/proc/softirqs") as f:
        for line in f:
            if line.split(":")[0].strip() == "NET_RX":
                return [int(x) for x in line.split()[1:3]]
    return [0, 0]


def main():
    helper, rounds = sys.argv[1], int(sys.argv[2])
    if os.cpu_count() < 2:
        sys.exit("two-cpus: the guest has one CPU")
    socks = [raw_socket() for _ in range(2)]
    rng = random.Random(1)
    sent = dropped()
    parsed = 0
    rx0 = net_rx()
    for r in range(rounds):
        sport = 20000 + r
        enter_netns("ftp-rt")
        inject(CLIENT, SERVER, sport, DPORT, helper)
        base = rng.getrandbits(32)
        start = threading.Barrier(2)

        def send(cpu):
            os.sched_setaffinity(threading.get_native_id(), {cpu})
            start.wait()
            for i in range(SEGMENTS):
                seq = (base + STRIDE * (2 * i + cpu)) & 0xFFFFFFFF
                socks[cpu].sendto(segment(sport, seq, b"x\r\n"), (SERVER, 0))

        threads = [threading.Thread(target=send, args=(cpu,)) for cpu in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sent += 2 * SEGMENTS
        wait_dropped(sent)
        # The two newest line starts: after the last segment of each CPU.
        newest = [(base + STRIDE * (2 * (SEGMENTS - 1) + cpu) + 3) & 0xFFFFFFFF for cpu in (0, 1)]
        got = []
        for k, seq in enumerate(newest):
            port = 40000 + 2 * (r % 1000) + k
            cmd = b"PORT 10,0,1,2,%d,%d\r\n" % (port >> 8, port & 0xFF)
            socks[0].sendto(segment(sport, seq, cmd), (SERVER, 0))
            sent += 1
            wait_dropped(sent)
            got.append(expects(port))
        parsed += sum(got)
        if not all(got):
            print(f"round {r}: PORT at the line start after CPU 0's last segment "
                  f"{'parsed' if got[0] else 'NOT parsed'}, after CPU 1's {'parsed' if got[1] else 'NOT parsed'}")
        ns("ftp-rt", ["conntrack", "-F"])
    rx1 = net_rx()
    print(f"two-cpus: {rounds} rounds, {parsed} of {2 * rounds} PORTs parsed; NET_RX softirqs per CPU: "
          f"{rx1[0] - rx0[0]}, {rx1[1] - rx0[1]}")


if __name__ == "__main__":
    main()
