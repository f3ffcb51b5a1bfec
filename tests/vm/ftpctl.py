#!/usr/bin/env python3
"""Scripted FTP control connections for the VM tests: each side of one TCP connection runs
the same list of steps in lock step, one step every STEP seconds after the connection is up.

  ftpctl.py server PORT STEPS...     (in the server namespace; listens on PORT, v4 and v6)
  ftpctl.py client ADDR PORT STEPS... (in the client namespace)

A step is 'c:TEXT' (the client sends TEXT) or 's:TEXT' (the server sends TEXT), with
\\r and \\n escapes; each step is one send() on a TCP_NODELAY socket, i.e. one segment.
'c:@wait:PATH' makes both sides wait (up to 20 s) until PATH exists, for the test to act
on the connection in between; the schedule then restarts from there.
Both sides write what they received to the file named by $OUT (or print it), after waiting
HOLD seconds past the last step. The client also runs WHILE_OPEN (a shell command,
from the environment) before it closes, so expectations can be listed while they exist.
"""
import os
import socket
import subprocess
import sys
import threading
import time

STEP = float(os.environ.get("STEP", "0.25"))
HOLD = float(os.environ.get("HOLD", "1.0"))


def unescape(text):
    return text.encode().decode("unicode_escape").encode("latin-1")


def run(sock, me, steps):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = bytearray()

    def reader():
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            got.extend(data)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    start = time.monotonic()
    for i, step in enumerate(steps):
        who, text = step.split(":", 1)
        delay = start + (i + 1) * STEP - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if text.startswith("@wait:"):
            # Both sides wait, so neither runs ahead of the test.
            path, deadline = text[len("@wait:"):], time.monotonic() + 20
            while not os.path.exists(path) and time.monotonic() < deadline:
                time.sleep(0.05)
            start = time.monotonic() - (i + 1) * STEP
            continue
        if who == me:
            sock.sendall(unescape(text))
    time.sleep(HOLD)
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
        srv.settimeout(20)
        conn, _ = srv.accept()
        run(conn, "s", steps)
    else:
        addr, port, steps = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
        sock = socket.create_connection((addr, port), timeout=10)
        sock.settimeout(None)
        run(sock, "c", steps)


if __name__ == "__main__":
    main()
