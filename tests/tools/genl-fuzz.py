#!/usr/bin/env python3
"""Fuzzes the omx generic netlink family with random and mutated requests: random commands,
flags and header fields; attributes of random types, lengths, values and nesting; truncated
messages and attributes; several messages per datagram. Prints a JSON summary.

    genl-fuzz.py [--messages N] [--seed S] [--unprivileged] [--keep-node ID]...
                 [--keep-dev NAME]... [--cleanup-every N]

As root, requests that succeed change the module's state: every --cleanup-every messages
and at the end, the nodes and devices it added (all but --keep-node / --keep-dev) are
deleted again. With --unprivileged, every change command the kernel processes must be
refused with EPERM. After each datagram a barrier request (stats-get with an ACK) is sent
and every reply up to the barrier's is read, so each request's outcome is known; no barrier
answer within 5 s counts as a hang. Exit status 1 on a hang or on an unprivileged change
that was not refused.
"""
import argparse
import errno
import json
import os
import random
import socket
import struct
import time

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 3, 1, 2
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_ECHO = 1, 2, 4, 8
NLM_F_ROOT, NLM_F_MATCH = 0x100, 0x200
NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 0x8000, 0x4000
SOL_NETLINK, NETLINK_EXT_ACK = 270, 11

NODE_ADD, NODE_DEL, NODE_GET, DEV_ADD, DEV_DEL, DEV_GET, STATS_GET = range(1, 8)
CHANGES = {NODE_ADD, NODE_DEL, DEV_ADD, DEV_DEL}
# node: id ifname ifindex peer-mac size byte-order version mtu state stats
N_ID, N_IFNAME, N_IFINDEX, N_MAC, N_SIZE, N_ORDER, N_VERSION, N_MTU = range(1, 9)
# dev: name size node-id replicas stats failed-node-id
D_NAME, D_SIZE, D_NODE, D_REPLICAS = range(1, 5)


def attr(ty, payload, length=None):
    n = 4 + len(payload) if length is None else length
    data = struct.pack("=HH", n & 0xFFFF, ty & 0xFFFF) + payload
    return data + b"\0" * (-len(data) % 4)


def msg(mtype, flags, seq, cmd, attrs, version=1, length=None):
    body = struct.pack("=BBH", cmd & 0xFF, version & 0xFF, 0) + attrs
    n = 16 + len(body) if length is None else length
    return struct.pack("=IHHII", n & 0xFFFFFFFF, mtype, flags & 0xFFFF, seq, 0) + body


class Gen:
    """Random attribute values and whole requests, valid ones and garbage."""

    def __init__(self, rng):
        self.r = rng

    def u(self, bits):
        r = self.r
        v = r.choice([0, 1, 2, 3, 7, (1 << bits) - 1, 1 << (bits - 1), r.getrandbits(bits)])
        return struct.pack({8: "=B", 16: "=H", 32: "=I", 64: "=Q"}[bits], v)

    def size(self):
        r = self.r
        return struct.pack("=Q", r.choice([0, 4096, 4097, 1 << 20, 16 << 20, 64 << 20,
                                           1 << 30, 1 << 40, (1 << 64) - 4096, (1 << 64) - 1,
                                           r.getrandbits(64), r.randrange(1, 4096) << 20]))

    def good_size(self):
        return struct.pack("=Q", self.r.choice([1, 2, 4, 8, 16, 64]) << 20)

    def string(self):
        r = self.r
        s = r.choice([b"eth0", b"lo", b"eth9", b"omx0", b"omx1", b"omx7", b"omx31", b"omx01",
                      b"sda", b"", b"x" * 15, b"x" * 16, b"omx" + b"9" * 28, b"y" * 40,
                      bytes(r.getrandbits(8) for _ in range(r.randrange(0, 40)))])
        return s + b"\0" if r.random() < 0.8 else s

    def mac(self):
        r = self.r
        m = r.choice([bytes.fromhex("525400aaaa02"), bytes.fromhex("525400aaaa01"), b"\xff" * 6,
                       b"\0" * 6, bytes.fromhex("01005e000001"),
                       bytes([0x02] + [r.getrandbits(8) for _ in range(5)])])
        return m if r.random() < 0.9 else m[: r.randrange(0, 8)] + b"\0" * r.randrange(0, 3)

    def value(self, depth):
        r = self.r
        k = r.randrange(9)
        if k == 0:
            return self.u(r.choice([8, 16, 32, 64]))
        if k in (1, 2):
            return self.u(32)
        if k == 3:
            return self.size()
        if k == 4:
            return self.string()
        if k == 5:
            return self.mac()
        if k == 6 and depth < 4:
            return self.attrs(depth + 1)
        if k == 7:
            return b""
        return bytes(r.getrandbits(8) for _ in range(r.randrange(0, 70)))

    def attrs(self, depth=0):
        r = self.r
        out = b""
        for _ in range(r.randrange(0, 7)):
            ty = r.choice([r.randrange(0, 12), r.randrange(0, 12), r.randrange(0, 1 << 14)])
            if r.random() < 0.1:
                ty |= NLA_F_NESTED
            if r.random() < 0.05:
                ty |= NLA_F_NET_BYTEORDER
            payload = self.value(depth)
            length = None
            if r.random() < 0.05:
                length = r.choice([0, 1, 3, 4, len(payload) + 3, len(payload) + 4 + r.randrange(1, 64),
                                   0xFFFF])
            out += attr(ty, payload, length)
        return out

    def valid(self):
        """A plausible request of a random command (the seed of mutations)."""
        r = self.r
        cmd = r.randrange(1, 8)
        a = b""
        if cmd == NODE_ADD:
            a = attr(N_IFNAME, self.string() if r.random() < 0.3 else b"eth0\0")
            good_mac = bytes([0x02] + [r.getrandbits(8) for _ in range(5)])
            a += attr(N_MAC, self.mac() if r.random() < 0.3 else good_mac)
            a += attr(N_SIZE, self.size() if r.random() < 0.3 else self.good_size())
            for ty in (N_ORDER, N_VERSION):
                if r.random() < 0.5:
                    a += attr(ty, struct.pack("=I", r.choice([0, 1, 2])))
            if r.random() < 0.3:
                a += attr(N_MTU, struct.pack("=I", r.choice([0, 64, 1500, 9000, r.getrandbits(32)])))
        elif cmd in (NODE_DEL, NODE_GET):
            if cmd == NODE_DEL or r.random() < 0.5:
                a = attr(N_ID, struct.pack("=I", r.choice([0, 1, 2, 3, r.getrandbits(32)])))
        elif cmd == DEV_ADD:
            a = attr(D_NAME, self.string() if r.random() < 0.3 else b"omx%d\0" % r.randrange(1, 9))
            a += attr(D_SIZE, self.size() if r.random() < 0.3 else self.good_size())
            for _ in range(r.choice([0, 0, 1, 2, 3])):
                a += attr(D_NODE, struct.pack("=I", r.choice([1, 2, 3, r.getrandbits(32)])))
            if r.random() < 0.5:
                a += attr(D_REPLICAS, struct.pack("=I", r.choice([0, 1, 2, 3])))
        elif cmd in (DEV_DEL, DEV_GET):
            if cmd == DEV_DEL or r.random() < 0.5:
                a = attr(D_NAME, self.string() if r.random() < 0.3 else b"omx%d\0" % r.randrange(0, 9))
        return cmd, a

    def mutate(self, a):
        r = self.r
        b = bytearray(a)
        for _ in range(r.randrange(1, 4)):
            if not b:
                break
            k = r.randrange(4)
            i = r.randrange(len(b))
            if k == 0:
                b[i] ^= 1 << r.randrange(8)
            elif k == 1:
                b[i] = r.getrandbits(8)
            elif k == 2:
                del b[i:]
            else:
                b[i:i] = b[r.randrange(len(b)):][: r.randrange(1, 16)]
        return bytes(b)

    def request(self, family):
        """(type, flags, cmd, version, attrs, length override or None)."""
        r = self.r
        k = r.random()
        if k < 0.45:
            cmd, a = self.valid()
            if r.random() < 0.5:
                a = self.mutate(a)
        elif k < 0.8:
            cmd, a = r.randrange(1, 8), self.attrs()
        else:
            cmd, a = r.choice([0, 8, 9, 10, r.randrange(256)]), self.attrs()
        flags = NLM_F_REQUEST
        if r.random() < 0.9:
            flags |= NLM_F_ACK
        if r.random() < 0.15:
            flags |= NLM_F_DUMP
        if r.random() < 0.05:
            flags |= r.getrandbits(16) & ~(NLM_F_REQUEST | NLM_F_MULTI)
        version = 1 if r.random() < 0.9 else r.getrandbits(8)
        length = None
        if r.random() < 0.05:
            length = r.choice([0, 15, 16, 19, 20 + len(a) + r.randrange(1, 100)])
        return family, flags, cmd, version, a, length


class Fuzzer:
    def __init__(self, args):
        self.a = args
        self.r = random.Random(args.seed)
        self.gen = Gen(self.r)
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((0, 0))
        self.sock.settimeout(5)
        self.seq = 1
        self.family = self.family_id()
        self.sent = {}  # seq -> cmd of requests whose outcome counts
        self.outcome = {}  # seq -> errno (0: acknowledged), missing: no answer
        self.s = {"mode": "unprivileged" if args.unprivileged else "root", "seed": args.seed,
                  "messages": 0, "datagrams": 0, "barriers": 0, "errnos": {}, "answered": 0,
                  "unanswered": 0, "changes_checked": 0, "eperm_violations": [], "hangs": 0,
                  "cleanup": {"nodes_deleted": 0, "devs_deleted": 0}}

    def next_seq(self):
        self.seq = self.seq % 0xFFFFFFF0 + 1
        return self.seq

    def family_id(self):
        body = struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + attr(CTRL_ATTR_FAMILY_NAME, b"omx\0")
        self.sock.send(struct.pack("=IHHII", 16 + len(body), GENL_ID_CTRL, NLM_F_REQUEST, 0, 0) + body)
        data = self.sock.recv(65536)
        off = 20
        while off + 4 <= len(data):
            alen, atype = struct.unpack_from("=HH", data, off)
            if atype == CTRL_ATTR_FAMILY_ID:
                return struct.unpack_from("=H", data, off + 4)[0]
            off += (alen + 3) & ~3
        raise SystemExit("genl-fuzz: family omx not found (omx_mod not loaded?)")

    def read_until(self, seq, replies=None):
        """Reads every message up to the NLMSG_ERROR (or DONE) of `seq`. False on a hang."""
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except socket.timeout:
                return False
            except OSError as e:
                if e.errno == errno.ENOBUFS:  # replies were lost; the barrier is resent
                    return self.read_until(self.barrier(), replies)
                raise
            off = 0
            while off + 16 <= len(data):
                length, mtype, _, rseq, _ = struct.unpack_from("=IHHII", data, off)
                if length < 16:
                    break
                if mtype == NLMSG_ERROR:
                    (err,) = struct.unpack_from("=i", data, off + 16)
                    self.outcome.setdefault(rseq, -err)
                    if rseq == seq:
                        return True
                elif mtype == NLMSG_DONE:
                    self.outcome.setdefault(rseq, 0)
                    if rseq == seq:
                        return True
                elif replies is not None and rseq == seq:
                    replies.append(data[off:off + length])
                off += (length + 3) & ~3

    def barrier(self):
        seq = self.next_seq()
        self.sock.send(msg(self.family, NLM_F_REQUEST | NLM_F_ACK, seq, STATS_GET, b""))
        self.s["barriers"] += 1
        return seq

    def datagram(self):
        """One to three requests in one datagram; only the last may have a bad length."""
        n = 1 if self.r.random() < 0.85 else self.r.randrange(2, 4)
        parts = []
        for i in range(n):
            mtype, flags, cmd, version, a, length = self.gen.request(self.family)
            if i < n - 1:
                length = None
            seq = self.next_seq()
            m = msg(mtype, flags, seq, cmd, a, version, length)
            # The kernel finds the next message at the aligned end of this one.
            parts.append(m + b"\0" * (-len(m) % 4))
            # Outcomes that count: requests the kernel parses as a whole.
            if length is None:
                self.sent[seq] = (cmd, flags)
        self.sock.send(b"".join(parts))
        self.s["messages"] += n
        self.s["datagrams"] += 1

    def check(self):
        for seq, (cmd, flags) in self.sent.items():
            e = self.outcome.get(seq)
            if e is None:
                self.s["unanswered"] += 1
            else:
                self.s["answered"] += 1
                name = errno.errorcode.get(e, str(e)) if e else "ok"
                self.s["errnos"][name] = self.s["errnos"].get(name, 0) + 1
            # The kernel refuses a change from a user without CAP_NET_ADMIN before parsing its
            # attributes; only reserved flag bits are refused (EINVAL) before that.
            clean = (flags & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO)) == 0
            if self.a.unprivileged and cmd in CHANGES and clean:
                self.s["changes_checked"] += 1
                if e != errno.EPERM:
                    v = self.s["eperm_violations"]
                    if len(v) < 20:
                        v.append({"cmd": cmd, "flags": flags, "errno": e})
        self.sent.clear()
        self.outcome.clear()

    def dump(self, cmd):
        seq = self.next_seq()
        self.sock.send(msg(self.family, NLM_F_REQUEST | NLM_F_DUMP, seq, cmd, b""))
        replies = []
        if not self.read_until(seq, replies):
            self.s["hangs"] += 1
            return []
        out = []
        for m in replies:
            off = 20
            while off + 4 <= len(m):
                alen, atype = struct.unpack_from("=HH", m, off)
                if alen < 4:
                    break
                if atype == 1:  # node id / device name
                    v = m[off + 4:off + alen]
                    out.append(struct.unpack("=I", v)[0] if cmd == NODE_GET else v.rstrip(b"\0"))
                off += (alen + 3) & ~3
        return out

    def request_ack(self, cmd, a):
        seq = self.next_seq()
        self.sock.send(msg(self.family, NLM_F_REQUEST | NLM_F_ACK, seq, cmd, a))
        return self.read_until(seq) and self.outcome.pop(seq, None) == 0

    def cleanup(self):
        """Deletes the devices, then the nodes, that the fuzzing added."""
        keep_devs = {d.encode() for d in self.a.keep_dev}
        for name in self.dump(DEV_GET):
            if name not in keep_devs and self.request_ack(DEV_DEL, attr(D_NAME, name + b"\0")):
                self.s["cleanup"]["devs_deleted"] += 1
        for nid in self.dump(NODE_GET):
            if nid not in self.a.keep_node and self.request_ack(NODE_DEL, attr(N_ID, struct.pack("=I", nid))):
                self.s["cleanup"]["nodes_deleted"] += 1
        self.outcome.clear()

    def run(self):
        start = time.monotonic()
        while self.s["messages"] < self.a.messages:
            self.datagram()
            seq = self.barrier()
            if not self.read_until(seq):
                self.s["hangs"] += 1
                break
            self.check()
            if not self.a.unprivileged and self.s["datagrams"] % self.a.cleanup_every == 0:
                self.cleanup()
        if not self.a.unprivileged:
            self.cleanup()
        self.s["seconds"] = round(time.monotonic() - start, 1)
        return self.s


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--messages", type=int, default=10000)
    p.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4), "little"))
    p.add_argument("--unprivileged", action="store_true")
    p.add_argument("--keep-node", type=int, action="append", default=[])
    p.add_argument("--keep-dev", action="append", default=[])
    p.add_argument("--cleanup-every", type=int, default=200)
    args = p.parse_args()
    s = Fuzzer(args).run()
    print(json.dumps(s))
    bad = s["hangs"] or s["eperm_violations"] or (args.unprivileged and not s["changes_checked"])
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
