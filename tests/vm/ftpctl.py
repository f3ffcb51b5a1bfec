#!/usr/bin/env python3
"""Scripted FTP control connections for the VM tests: each side of one TCP connection runs
the same list of steps in lock step.

  ftpctl.py server PORT STEPS...     (in the server namespace; listens on PORT, v4 and v6)
  ftpctl.py client ADDR PORT STEPS... (in the client namespace)

A step is 'c:TEXT' (the client sends TEXT) or 's:TEXT' (the server sends TEXT), with
\\r and \\n escapes; each step is one send() on a TCP_NODELAY socket, i.e. one segment.
A step is over once it is settled (tests/vm/tcp_settle.py), and no side starts the next
before: delivered (the peer acknowledged every byte) or dropped (TCP retransmitted it
without an acknowledgement). The sender writes the outcome to $SYNC/N (default
/tmp/ctl-sync), which the other side waits for. Nothing waits for a fixed time.
'c:@wait:PATH' makes both sides wait until PATH exists, for the test to act on the
connection in between.
Both sides write what they received to the file named by $OUT (or print it): once the last
step has settled, all that was delivered is in the socket's receive queue. The client also runs WHILE_OPEN (a shell command, from the
environment) before it closes, so expectations can be listed while they exist.
"""
import os
import socket
import subprocess
import sys
import time

from tcp_settle import HANG_SECONDS, settled, total_retrans

SYNC = os.environ.get("SYNC", "/tmp/ctl-sync")


def unescape(text):
    return text.encode().decode("unicode_escape").encode("latin-1")


def run(sock, me, steps):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    got = bytearray()

    def drain():
        """Reads what has arrived, without waiting."""
        while True:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, ConnectionError):
                return
            if not data:
                return
            got.extend(data)

    def wait_for(what, poll):
        """Polls poll() (reading what arrives meanwhile) until it returns something true, and
        returns that; only a hang reaches the cap."""
        deadline = time.monotonic() + HANG_SECONDS
        while not (value := poll()):
            if time.monotonic() > deadline:
                sys.exit(f"ftpctl: gave up waiting for {what} after {HANG_SECONDS} s")
            drain()
            time.sleep(0.01)
        return value

    os.makedirs(SYNC, exist_ok=True)
    for i, step in enumerate(steps):
        who, text = step.split(":", 1)
        if text.startswith("@wait:"):
            path = text[len("@wait:"):]
            wait_for(path, lambda: os.path.exists(path))
            continue
        mark = os.path.join(SYNC, str(i))
        if who == me:
            before = total_retrans(sock)
            sock.setblocking(True)
            sock.sendall(unescape(text))
            sock.setblocking(False)
            outcome = wait_for(f"step {i} to settle", lambda: settled(sock, before))
            with open(mark + ".tmp", "w") as f:
                f.write(outcome)
            os.rename(mark + ".tmp", mark)
        else:
            wait_for(f"the peer's step {i}", lambda: os.path.exists(mark))
    # Every step has settled: what the peer sent and got acknowledged is queued here.
    drain()
    if me == "c" and os.environ.get("WHILE_OPEN"):
        subprocess.run(os.environ["WHILE_OPEN"], shell=True, check=False)
    if os.environ.get("OUT"):
        with open(os.environ["OUT"], "wb") as f:
            f.write(got)
    else:
        sys.stdout.buffer.write(bytes(got))
    sock.close()


def main():
    role = sys.argv[1]
    if role == "server":
        port, steps = int(sys.argv[2]), sys.argv[3:]
        srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        srv.bind(("::", port))
        srv.listen(1)
        srv.settimeout(HANG_SECONDS)
        conn, _ = srv.accept()
        run(conn, "s", steps)
    else:
        addr, port, steps = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
        sock = socket.create_connection((addr, port), timeout=HANG_SECONDS)
        sock.settimeout(None)
        run(sock, "c", steps)


if __name__ == "__main__":
    main()
