#!/usr/bin/env python3
"""Sends hand-made, mostly malformed requests to the omx generic netlink family and prints
what the kernel answered, one line per case: `CASE errno=N extack="..."`.

    genl-raw.py            run every case
Used by tests/vm/20-control-plane.sh: strict policies must reject each case with a clear
extended-ACK message, and the module must not warn.
"""
import errno
import os
import socket
import struct

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
SOL_NETLINK, NETLINK_EXT_ACK = 270, 11
NLMSGERR_ATTR_MSG = 1

NODE_ADD, NODE_DEL, NODE_GET = 1, 2, 3
A_ID, A_IFNAME, A_IFINDEX, A_PEER_MAC, A_SIZE, A_BYTE_ORDER = 1, 2, 3, 4, 5, 6


def attr(ty: int, payload: bytes) -> bytes:
    data = struct.pack("=HH", 4 + len(payload), ty) + payload
    return data + b"\0" * (-len(data) % 4)


def request(sock, family: int, cmd: int, attrs: bytes, seq: int):
    body = struct.pack("=BBH", cmd, 1, 0) + attrs
    msg = struct.pack("=IHHII", 16 + len(body), family, NLM_F_REQUEST | NLM_F_ACK, seq, 0) + body
    sock.send(msg)
    while True:
        data = sock.recv(65536)
        off = 0
        while off + 16 <= len(data):
            length, mtype, flags, rseq, _ = struct.unpack_from("=IHHII", data, off)
            if mtype == NLMSG_ERROR:
                (err,) = struct.unpack_from("=i", data, off + 16)
                return -err, extack_msg(data[off:off + length], flags)
            off += (length + 3) & ~3


def extack_msg(msg: bytes, flags: int) -> str:
    # Error payload: errno, the original header (+ payload unless NLM_F_CAPPED), then TLVs.
    NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x100, 0x200
    if not flags & NLM_F_ACK_TLVS:
        return ""
    (orig_len,) = struct.unpack_from("=I", msg, 20)
    off = 20 + (16 if flags & NLM_F_CAPPED else orig_len)
    while off + 4 <= len(msg):
        alen, atype = struct.unpack_from("=HH", msg, off)
        if alen < 4:
            break
        if atype == NLMSGERR_ATTR_MSG:
            return msg[off + 4:off + alen].rstrip(b"\0").decode()
        off += (alen + 3) & ~3
    return ""


def family_id(sock) -> int:
    body = struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + attr(CTRL_ATTR_FAMILY_NAME, b"omx\0")
    sock.send(struct.pack("=IHHII", 16 + len(body), GENL_ID_CTRL, NLM_F_REQUEST, 1, 0) + body)
    data = sock.recv(65536)
    off = 16 + 4
    while off + 4 <= len(data):
        alen, atype = struct.unpack_from("=HH", data, off)
        if atype == CTRL_ATTR_FAMILY_ID:
            return struct.unpack_from("=H", data, off + 4)[0]
        off += (alen + 3) & ~3
    raise SystemExit("genl-raw: family omx not found (omx_mod not loaded?)")


IF = attr(A_IFNAME, b"eth0\0")
MAC = attr(A_PEER_MAC, bytes.fromhex("525400aaaa99"))
SIZE = attr(A_SIZE, struct.pack("=Q", 1 << 20))
CASES = [
    ("ifname-not-nul-terminated", NODE_ADD, attr(A_IFNAME, b"eth0") + MAC + SIZE),
    ("ifname-too-long", NODE_ADD, attr(A_IFNAME, b"x" * 40 + b"\0") + MAC + SIZE),
    ("mac-5-bytes", NODE_ADD, IF + attr(A_PEER_MAC, b"\x52\x54\0\0\0") + SIZE),
    ("size-as-u32", NODE_ADD, IF + MAC + attr(A_SIZE, struct.pack("=I", 4096))),
    ("byte-order-out-of-range", NODE_ADD, IF + MAC + SIZE + attr(A_BYTE_ORDER, struct.pack("=I", 7))),
    ("unknown-attribute", NODE_ADD, IF + MAC + SIZE + attr(42, b"\0\0\0\0")),
    ("id-not-settable", NODE_ADD, attr(A_ID, struct.pack("=I", 5)) + IF + MAC + SIZE),
    ("missing-mac", NODE_ADD, IF + SIZE),
    ("missing-everything", NODE_ADD, b""),
    ("zero-size", NODE_ADD, IF + MAC + attr(A_SIZE, struct.pack("=Q", 0))),
    ("unaligned-size", NODE_ADD, IF + MAC + attr(A_SIZE, struct.pack("=Q", 4097))),
    ("broadcast-mac", NODE_ADD, IF + attr(A_PEER_MAC, b"\xff" * 6) + SIZE),
    ("truncated-attribute", NODE_ADD, IF + struct.pack("=HH", 12, A_SIZE) + b"\1\2"),
    ("del-missing-id", NODE_DEL, b""),
    ("del-unknown-node", NODE_DEL, attr(A_ID, struct.pack("=I", 12345))),
    ("get-id-as-u8", NODE_GET, attr(A_ID, b"\1")),
    ("unknown-command", 99, b""),
]


def main() -> None:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    sock.bind((0, 0))
    fam = family_id(sock)
    for seq, (name, cmd, attrs) in enumerate(CASES, start=2):
        err, msg = request(sock, fam, cmd, attrs, seq)
        print(f'{name} errno={errno.errorcode.get(err, err) if err else 0} extack="{msg}"')


if __name__ == "__main__":
    main()
