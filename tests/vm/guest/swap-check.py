#!/usr/bin/env python3
"""Writes a working set of SIZE MiB page by page (each page's content derived from its index
and a seed) into anonymous memory, then reads every page back and compares every byte.
With a working set larger than RAM the pages must travel through swap. Prints the seconds
of each pass, every wrong page (up to 10, then a count), and a last line "N pages verified,
W wrong" that the harness requires with N equal to the working set and W 0; exits 1 if any
page is wrong. An optional third argument names a file to create halfway through writing
(a fault-injection trigger for the test harness)."""
import hashlib
import mmap
import sys
import time

PAGE = 4096


def page(i, seed):
    # 32 bytes of SHA-256 repeated: every page distinct, every byte checked.
    return hashlib.sha256(b"%d:%d" % (seed, i)).digest() * (PAGE // 32)


def main():
    size_mib, seed = int(sys.argv[1]), int(sys.argv[2])
    halfway_file = sys.argv[3] if len(sys.argv) > 3 else None
    pages = size_mib * 256
    mem = mmap.mmap(-1, pages * PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    t0 = time.monotonic()
    for i in range(pages):
        mem[i * PAGE:(i + 1) * PAGE] = page(i, seed)
        if halfway_file and i == pages // 2:
            open(halfway_file, "w").close()
            print(f"halfway: created {halfway_file}", flush=True)
    t1 = time.monotonic()
    print(f"write {size_mib} MiB: {t1 - t0:.1f} s", flush=True)
    wrong = 0
    for i in range(pages):
        if mem[i * PAGE:(i + 1) * PAGE] != page(i, seed):
            wrong += 1
            if wrong <= 10:
                print(f"page {i} is wrong", flush=True)
    t2 = time.monotonic()
    print(f"verify {size_mib} MiB: {t2 - t1:.1f} s", flush=True)
    print(f"{pages} pages verified, {wrong} wrong", flush=True)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
