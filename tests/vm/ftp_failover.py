#!/usr/bin/env python3
"""One FTP control connection across a firewall failover (tests/vm/test-conntrackd.sh).

  ftp_failover.py ADDR port|pasv FILE ANNOUNCED GO [TIMEOUT] [--pickup]

Logs in anonymously at ADDR:21 and announces a data connection (PORT, or PASV), then creates
the file ANNOUNCED and waits until GO exists: the test moves the client's and the server's
routes to the other firewall in between. Then it fetches FILE (RETR) through the data
connection announced before the move ("before"), and once more with a new announcement on the
same control connection ("after"). Each transfer's content is compared with the local copy of
FILE. Prints 'before: ok|FAIL ...' and, if the first passed, 'after: ok|FAIL ...'; exits 0 if
every transfer printed passed.
TIMEOUT (seconds, default 30) bounds the wait for the data connection: a hang guard, or the
short wait of a negative control whose data connection no firewall admits.
With --pickup nothing is announced before the move (ANNOUNCED is created once logged in):
the first command through the other firewall is the announcement, which only a helper that
picks the connection up mid-stream parses. Prints 'pickup: ok|FAIL ...'.
"""
import ftplib
import os
import select
import socket
import sys
import time


def wait_file(path, cap):
    deadline = time.monotonic() + cap
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.exit(f"ftp_failover: {path} did not appear in {cap} s")
        time.sleep(0.05)


def announce(ftp, mode):
    """Sends PORT (with a listening socket of ours) or PASV; returns what the transfer needs."""
    if mode == "port":
        host = ftp.sock.getsockname()[0]
        listener = socket.create_server((host, 0))
        ftp.sendport(host, listener.getsockname()[1])
        return listener
    return ftp.makepasv()


def transfer(ftp, mode, announced, name, want, timeout):
    """RETR through the announced data connection; returns 'ok' or what went wrong."""
    try:
        if mode == "port":
            ftp.putcmd("RETR " + name)
            # The server connects, or answers that it could not (425) without waiting for us.
            ready, _, _ = select.select([announced, ftp.sock], [], [], timeout)
            if announced not in ready:
                if not ready:
                    raise TimeoutError("no data connection and no reply")
                return f"FAIL (RETR: {ftp.getresp()})"
            conn, _ = announced.accept()
            announced.close()
        else:
            conn = socket.create_connection(announced, timeout=timeout)
            ftp.putcmd("RETR " + name)
        resp = ftp.getresp()
        if not resp.startswith("150"):
            return f"FAIL (RETR: {resp})"
        got = bytearray()
        conn.settimeout(timeout)
        while data := conn.recv(65536):
            got.extend(data)
        conn.close()
        ftp.voidresp()
    except (OSError, ftplib.Error) as e:
        return f"FAIL ({type(e).__name__}: {e})"
    return "ok" if bytes(got) == want else f"FAIL (got {len(got)} bytes, not the file)"


def main():
    args = [a for a in sys.argv[1:] if a != "--pickup"]
    pickup = len(args) < len(sys.argv) - 1
    addr, mode, path, announced_file, go = args[:5]
    timeout = float(args[5]) if len(args) > 5 else 30.0
    if mode not in ("port", "pasv"):
        sys.exit(f"ftp_failover: mode must be port or pasv, not '{mode}'")
    want = open(path, "rb").read()
    name = os.path.basename(path)
    ftp = ftplib.FTP()
    ftp.connect(addr, 21, timeout=30)
    ftp.login()
    ftp.voidcmd("TYPE I")
    if pickup:
        open(announced_file, "w").close()
        wait_file(go, 600)
        r = transfer(ftp, mode, announce(ftp, mode), name, want, timeout)
        print("pickup:", r, flush=True)
        if r == "ok":
            ftp.quit()
        sys.exit(0 if r == "ok" else 1)
    first = announce(ftp, mode)
    open(announced_file, "w").close()
    wait_file(go, 600)
    r = transfer(ftp, mode, first, name, want, timeout)
    print("before:", r, flush=True)
    ok = r == "ok"
    if ok:
        r = transfer(ftp, mode, announce(ftp, mode), name, want, timeout)
        print("after:", r, flush=True)
        ok = r == "ok"
        ftp.quit()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
