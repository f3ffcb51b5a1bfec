#!/usr/bin/env python3
"""The text of a capture (tcpdump -w), one packet at a time, for the VM tests to grep.

    pcap_text.py FILE [AFTER UNTIL]

For each TCP or UDP packet over IPv4 or IPv6 a header line "SRC.PORT > DST.PORT", then each
line of its payload on a line of its own (bytes outside printable ASCII as '.'). A payload
line therefore starts where the payload or a line of it starts: an FTP command or reply is
found by matching at the start of a line, which tcpdump -A cannot give (it prints the
packet's binary headers on the payload's first line, and a header byte may be a digit).
With AFTER and UNTIL, only the packets between the first one whose payload holds AFTER and
the first one after it that holds UNTIL (the markers of tests/vm/net.sh's capture_cut).
"""

import ipaddress
import struct
import sys

LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 = 1, 113, 276


def network_layer(linktype, frame):
    """(ethertype, the packet after the link header), or None for a frame of another kind."""
    if linktype == LINKTYPE_ETHERNET and len(frame) >= 14:
        (ethertype,) = struct.unpack_from("!H", frame, 12)
        offset = 14
        if ethertype == 0x8100 and len(frame) >= 18:
            (ethertype,) = struct.unpack_from("!H", frame, 16)
            offset = 18
        return ethertype, frame[offset:]
    if linktype == LINKTYPE_LINUX_SLL and len(frame) >= 16:
        return struct.unpack_from("!H", frame, 14)[0], frame[16:]
    if linktype == LINKTYPE_LINUX_SLL2 and len(frame) >= 20:
        return struct.unpack_from("!H", frame, 0)[0], frame[20:]
    return None


def transport(ethertype, packet):
    """(src, dst, protocol, the segment), or None if this is not IPv4/IPv6 TCP or UDP."""
    if ethertype == 0x0800 and len(packet) >= 20:
        ihl = (packet[0] & 0x0F) * 4
        (total,) = struct.unpack_from("!H", packet, 2)
        src, dst = ipaddress.ip_address(packet[12:16]), ipaddress.ip_address(packet[16:20])
        return src, dst, packet[9], packet[ihl:total]
    if ethertype == 0x86DD and len(packet) >= 40:
        (length,) = struct.unpack_from("!H", packet, 4)
        src, dst = ipaddress.ip_address(packet[8:24]), ipaddress.ip_address(packet[24:40])
        # The tests send no extension headers.
        return src, dst, packet[6], packet[40 : 40 + length]
    return None


def payload(protocol, segment):
    """(source port, destination port, payload) of a TCP or UDP segment, or None."""
    if protocol == 6 and len(segment) >= 20:
        sport, dport = struct.unpack_from("!HH", segment, 0)
        return sport, dport, segment[(segment[12] >> 4) * 4 :]
    if protocol == 17 and len(segment) >= 8:
        sport, dport = struct.unpack_from("!HH", segment, 0)
        return sport, dport, segment[8:]
    return None


def printable(line):
    return "".join(chr(b) if 32 <= b < 127 or b == 9 else "." for b in line)


def packets(data):
    """Yields (linktype, frame) for each record of a pcap file (either byte order, µs or ns)."""
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        raise SystemExit("pcap_text.py: not a pcap file")
    (linktype,) = struct.unpack_from(order + "I", data, 20)
    offset = 24
    while offset + 16 <= len(data):
        caplen = struct.unpack_from(order + "I", data, offset + 8)[0]
        frame = data[offset + 16 : offset + 16 + caplen]
        offset += 16 + caplen
        # A record tcpdump was still writing when the file was read is cut short: skip it.
        if len(frame) == caplen:
            yield linktype & 0xFFFF, frame


def main():
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    after, until = (a.encode() for a in sys.argv[2:4]) if len(sys.argv) > 3 else (None, None)
    inside = after is None
    out = []
    for linktype, frame in packets(data):
        layer = network_layer(linktype, frame)
        ip = layer and transport(*layer)
        seg = ip and payload(ip[2], ip[3])
        if not seg:
            continue
        if after is not None:
            if not inside:
                inside = after in seg[2]
                continue
            if until in seg[2]:
                break
        src, dst = ip[0], ip[1]
        out.append(f"{src}.{seg[0]} > {dst}.{seg[1]} length {len(seg[2])}")
        text = seg[2].replace(b"\r\n", b"\n")
        out.extend(printable(line) for line in text.split(b"\n") if line)
    sys.stdout.write("".join(line + "\n" for line in out))


if __name__ == "__main__":
    main()
