#!/usr/bin/env python3
"""Verified block I/O that keeps running while the link misbehaves (tests/vm/64-link-faults.sh).

    fault-io.py DEV OFFSET_MIB SIZE_MIB UNTIL_FILE [--tolerate-eio] [--final-after FILE]

The region [OFFSET, OFFSET + SIZE) of DEV is cut into 256 KiB slots. With O_DIRECT, slot after
slot (round robin) gets fresh data (a new version each time, derived from slot and version) and
is read back at once and compared: one request of each kind in flight all the time, so the link
is never idle. This goes on until UNTIL_FILE exists and every slot was written at least once.
Then (after FILE exists, with --final-after: the caller waits for the node to be up again) every
slot is read back and compared with the last version written to it; a slot whose last write
failed is written and verified again (the device must work again).

EIO is a failure unless --tolerate-eio (a link down past the dead-node bound): then a failed
write makes the slot's contents unknown until it is rewritten, and a failed read is retried
later. A successful read that returns wrong bytes is always a failure. Prints one JSON object
(first_eio_s: seconds from the start to the first EIO, if any); exits 1 on any failure."""
import errno
import json
import mmap
import os
import random
import sys
import time

SLOT = 256 << 10
MiB = 1 << 20
GIVE_UP = 600  # seconds without UNTIL_FILE / FILE: the caller is broken, stop


def data(slot, version):
    return random.Random(f"omx-fault:{slot}:{version}").randbytes(SLOT)


def main():
    args = sys.argv[1:]
    tolerate = "--tolerate-eio" in args
    final_after = None
    if "--final-after" in args:
        i = args.index("--final-after")
        final_after = args[i + 1]
        del args[i:i + 2]
    args = [a for a in args if a != "--tolerate-eio"]
    dev, offset, size, until = args[0], int(args[1]) * MiB, int(args[2]) * MiB, args[3]
    nslots = size // SLOT
    fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
    buf = mmap.mmap(-1, SLOT)  # page aligned, as O_DIRECT wants
    version = [None] * nslots  # last version written successfully; None: unknown
    written_once = [False] * nslots
    st = {"bytes_written": 0, "bytes_verified": 0, "writes": 0, "reads": 0, "eio_writes": 0,
          "eio_reads": 0, "eio_after_recovery": 0, "mismatches": 0, "mismatch_offsets": [],
          "rewritten_after_eio": 0, "passes": 0}
    next_version = 0
    start = time.monotonic()

    def first_eio():
        st.setdefault("first_eio_s", round(time.monotonic() - start, 2))

    def write(slot):
        nonlocal next_version
        next_version += 1
        v = next_version
        buf[:] = data(slot, v)
        st["writes"] += 1
        try:
            os.pwritev(fd, [buf], offset + slot * SLOT)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            first_eio()
            version[slot] = None
            return False
        version[slot] = v
        written_once[slot] = True
        st["bytes_written"] += SLOT
        return True

    def verify(slot):
        st["reads"] += 1
        try:
            os.preadv(fd, [buf], offset + slot * SLOT)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            first_eio()
            return False
        if buf[:] != data(slot, version[slot]):
            st["mismatches"] += 1
            if len(st["mismatch_offsets"]) < 16:
                st["mismatch_offsets"].append(offset + slot * SLOT)
        else:
            st["bytes_verified"] += SLOT
        return True

    slot = 0
    while True:
        if write(slot):
            if not verify(slot):
                st["eio_reads"] += 1
        else:
            st["eio_writes"] += 1
        if not tolerate and (st["eio_writes"] or st["eio_reads"]):
            break
        if st["eio_writes"] or st["eio_reads"]:
            time.sleep(0.05)  # a dead node fails I/O at once: do not spin
        slot = (slot + 1) % nslots
        if slot == 0:
            st["passes"] += 1
        if os.path.exists(until) and all(written_once):
            break
        if time.monotonic() - start > GIVE_UP:
            st["error"] = f"{until} never appeared"
            break

    if final_after:
        t = time.monotonic()
        while not os.path.exists(final_after):
            if time.monotonic() - t > GIVE_UP:
                st["error"] = f"{final_after} never appeared"
                break
            time.sleep(0.1)
    # Every slot: what was acknowledged must read back; what was lost must be writable again.
    for s in range(nslots):
        if version[s] is None:
            st["rewritten_after_eio"] += 1
            if not write(s):
                st["eio_after_recovery"] += 1
                continue
        if not verify(s):
            st["eio_after_recovery"] += 1
    st["seconds"] = round(time.monotonic() - start, 2)
    os.close(fd)
    failed = (st["mismatches"] or st["eio_after_recovery"] or "error" in st
              or (not tolerate and (st["eio_writes"] or st["eio_reads"])))
    st["ok"] = not failed
    print(json.dumps(st), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
