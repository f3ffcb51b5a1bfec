"""When a segment sent on a TCP socket has settled, for tests that must not wait a fixed time:
delivered once the peer acknowledged every byte, dropped once TCP retransmitted the
unacknowledged bytes RETRANSMITS times (a tail-loss probe, then retransmission timeouts of at
least 200 ms that double and stretch with the measured round trip: a slower machine waits
longer, and a segment still in flight is never taken for a drop).

Used by tests/vm/ftpctl.py and tests/vm/fuzz_live.py.
"""
import fcntl
import socket
import struct
import termios

RETRANSMITS = 3
# What a test waits for at most for one thing to happen: only a hung guest reaches it.
HANG_SECONDS = 120


def total_retrans(sock):
    """The socket's retransmitted segments so far (struct tcp_info's tcpi_total_retrans)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return struct.unpack_from("=I", info, 100)[0]


def unacked(sock):
    """Bytes queued or sent and not yet acknowledged by the peer (SIOCOUTQ)."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]


def unread(sock):
    """Bytes received and not yet read (SIOCINQ)."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0]


def settled(sock, retrans_before):
    """'d' once every byte sent is acknowledged; 'x' once bytes are still unacknowledged after
    RETRANSMITS retransmissions since total_retrans() read retrans_before; else None."""
    if unacked(sock) == 0:
        return "d"
    if total_retrans(sock) - retrans_before >= RETRANSMITS:
        return "x"
    return None
