#!/usr/bin/env python3
"""Sends raw EtherType 0xAAAA frames on an interface, for tests of the receive path.

    send-frames.py IFACE KIND COUNT [SRC_MAC [DST_MAC]]
KIND: short (payload below the 48-byte TLoE minimum), unaligned (not a multiple of 8 bytes),
      vc0 (a well-formed, empty TLoE frame on virtual channel 0, not a self-test frame).
SRC_MAC defaults to 02:00:00:aa:aa:01 (no registered peer), DST_MAC to broadcast.
"""
import socket
import struct
import sys

ETH_P_OMNIXTEND = 0xAAAA


def payload(kind: str, i: int) -> bytes:
    if kind == "short":
        return bytes(8 + i % 32)
    if kind == "unaligned":
        return bytes(48 + 1 + (i % 7))
    if kind == "vc0":
        header = (i & 0x3FFFFF) << 32
        return struct.pack(">Q", header) + bytes(40)
    raise SystemExit(f"unknown frame kind {kind!r}: use short, unaligned or vc0")


def main() -> None:
    if not 4 <= len(sys.argv) <= 6:
        raise SystemExit(__doc__)
    iface, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    src = bytes.fromhex((sys.argv[4] if len(sys.argv) > 4 else "02:00:00:aa:aa:01").replace(":", ""))
    dst = bytes.fromhex((sys.argv[5] if len(sys.argv) > 5 else "ff:ff:ff:ff:ff:ff").replace(":", ""))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    for i in range(count):
        eth = dst + src + struct.pack(">H", ETH_P_OMNIXTEND)
        sock.send(eth + payload(kind, i))


if __name__ == "__main__":
    main()
