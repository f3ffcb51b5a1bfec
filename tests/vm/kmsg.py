"""The kernel log from the moment a reader opens it (/dev/kmsg), read without waiting.

Used by tests/vm/crafted_run.py and tests/vm/fuzz_live.py. A record overwritten before it
was read (the ring buffer wrapped) is an error, never a silent gap: the caller's record of
what the helper logged would be incomplete.
"""
import os


class LostRecords(Exception):
    """The kernel overwrote log records before they were read."""


class Kmsg:
    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)

    def take(self):
        """The messages logged since the last call (each record's text, its first line)."""
        out = []
        while True:
            try:
                record = os.read(self.fd, 8192)
            except BlockingIOError:
                return out
            except BrokenPipeError as e:
                raise LostRecords("kernel log records were lost before they were read") from e
            out.append(record.decode(errors="replace").split(";", 1)[-1].split("\n", 1)[0])
