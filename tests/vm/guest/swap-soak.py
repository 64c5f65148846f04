#!/usr/bin/env python3
"""Soak workload: a working set of SIZE MiB in anonymous memory, rewritten and verified pass
after pass (each pass with its own seed, so a stale page from an earlier pass is caught) until
SECONDS have passed. Unlike swap-check.py it does not stop at a wrong page: it counts them.
Prints a line per pass and a final JSON summary; exits 1 if any page was lost."""
import hashlib
import json
import mmap
import sys
import time

PAGE = 4096


def page(i, seed):
    return hashlib.sha256(b"%d:%d" % (seed, i)).digest() * (PAGE // 32)


def main():
    size_mib, seconds = int(sys.argv[1]), float(sys.argv[2])
    pages = size_mib * 256
    mem = mmap.mmap(-1, pages * PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    start = time.monotonic()
    passes = lost = 0
    while passes == 0 or time.monotonic() - start < seconds:
        seed = 1000 + passes
        t0 = time.monotonic()
        for i in range(pages):
            mem[i * PAGE:(i + 1) * PAGE] = page(i, seed)
        bad = sum(1 for i in range(pages) if mem[i * PAGE:(i + 1) * PAGE] != page(i, seed))
        lost += bad
        passes += 1
        print(f"pass {passes}: {size_mib} MiB written and verified in {time.monotonic() - t0:.0f} s, "
              f"{bad} wrong pages", flush=True)
    summary = {
        "seconds": round(time.monotonic() - start),
        "passes": passes,
        "bytes_written": passes * pages * PAGE,
        "bytes_verified": passes * pages * PAGE,
        "lost_pages": lost,
    }
    print("soak-summary " + json.dumps(summary), flush=True)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
