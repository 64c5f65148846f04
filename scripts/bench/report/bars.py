"""Issue #17's bars, each a ratio within one run against a threshold: met, missed, or not
measured (a configuration or job the run left out)."""

SEQ_JOBS = ("read-64k-qd8", "write-64k-qd8", "read-1m-qd8", "write-1m-qd8")
MTUS = ("1500", "9000")
MAX_RETX_PCT = 1.0


def _ratio(x, base):
    return x / base if x is not None and base else None


def bar(name, value, op, threshold, detail=""):
    """One bar: value (None: not measured) compared with threshold by op (">=" or "<=")."""
    if value is None:
        met = None
    elif op == ">=":
        met = value >= threshold
    else:
        met = value <= threshold
    return {"bar": name, "value": None if value is None else round(value, 3), "op": op,
            "threshold": threshold, "detail": detail, "met": met}


def _vs(name, x, base, threshold, unit, op=">="):
    detail = f"{_num(x)} / {_num(base)} {unit}" if x is not None and base else ""
    return bar(name, _ratio(x, base), op, threshold, detail)


def _num(v):
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def link_of(results, mtu, mode, nbytes, qd):
    """A raw-link test's figures (rawpp), or {}."""
    return results["link"].get(f"link-{mtu}.{mode}-{nbytes}-qd{qd}", {})


def link_bandwidth(results, mtu, mode):
    """(MB/s, its name): the link's one-way limit in the direction of `mode` (pktgen), or,
    in runs without it, rawpp's 64 KiB transfers at QD8."""
    st = results.get("stream", {}).get(f"{mtu}.{mode}", {}).get("mb_per_s")
    if st:
        return st, f"link one-way limit (pktgen, {mode}) at MTU {mtu}"
    return link_of(results, mtu, mode, 65536, 8).get("mb_per_s"), f"raw link {mode}-65536-qd8 at MTU {mtu}"


def _mode(job):
    return "pull" if "read" in job else "push"


def bars(results):
    fio, out = results["fio"], []

    def f(cfg, job, key):
        return fio.get(cfg, {}).get(job, {}).get(key)

    # Sequential bandwidth against the raw link at the same MTU, and against nbd.
    for job in SEQ_JOBS:
        for mtu in MTUS:
            lk, what = link_bandwidth(results, mtu, _mode(job))
            out.append(_vs(f"{job} MB/s, omx-{mtu} / {what}", f(f"omx-{mtu}", job, "mb_s"), lk, 0.8, "MB/s"))
        out.append(_vs(f"{job} MB/s, omx-9000 / nbd", f("omx-9000", job, "mb_s"), f("nbd", job, "mb_s"),
                       1.5, "MB/s"))
    # 4 KiB random I/O against NVMe/TCP and the link's request (QD32) and round-trip (QD1) rates.
    for rw in ("randread", "randwrite"):
        for mtu in MTUS:
            omx = f"omx-{mtu}"
            job = f"{rw}-4k-qd32"
            out.append(_vs(f"{job} IOPS, {omx} / NVMe/TCP", f(omx, job, "iops"), f("nvme-tcp", job, "iops"),
                           1.0, "IOPS"))
            lk = link_of(results, mtu, _mode(rw), 4096, 32).get("ops_per_s")
            out.append(_vs(f"{job} IOPS, {omx} / link request rate {_mode(rw)}-4096-qd32", f(omx, job, "iops"),
                           lk, 0.9, "/s"))
            job = f"{rw}-4k-qd1"
            lk = link_of(results, mtu, _mode(rw), 4096, 1).get("ops_per_s")
            out.append(_vs(f"{job} IOPS, {omx} / link round-trip rate {_mode(rw)}-4096-qd1", f(omx, job, "iops"),
                           lk, 0.9, "/s"))
    # The swap workloads.
    dec, kv = results["decode"], results["kv"]
    for mtu in MTUS:
        omx = f"omx-{mtu}"
        lk, what = link_bandwidth(results, mtu, "pull")
        for pct in ("70", "50"):
            d = dec.get(omx, {}).get(pct, {})
            out.append(_vs(f"decode {pct}% RAM swap-in MB/s, {omx} / {what}", d.get("swapin_mb_s"), lk, 0.8, "MB/s"))
            tps = d.get("tokens_per_s")
            out.append(_vs(f"decode {pct}% RAM tokens/s, {omx} / nbd", tps,
                           dec.get("nbd", {}).get(pct, {}).get("tokens_per_s"), 2.0, "tokens/s"))
            out.append(_vs(f"decode {pct}% RAM tokens/s, {omx} / disk swap", tps,
                           dec.get("disk", {}).get(pct, {}).get("tokens_per_s"), 1.0, "tokens/s"))
        k, n = kv.get(omx, {}), kv.get("nbd", {})
        out.append(_vs(f"key-value ops/s, {omx} / nbd", k.get("ops_per_s"), n.get("ops_per_s"), 1.5, "ops/s"))
        out.append(_vs(f"key-value p99, {omx} / nbd", k.get("p99_us"), n.get("p99_us"), 1.0, "us", op="<="))
    # Client CPU per GiB moved in the 1 MiB jobs.
    for job in ("read-1m-qd8", "write-1m-qd8"):
        for mtu in MTUS:
            out.append(_vs(f"{job} client CPU-s/GiB, omx-{mtu} / nbd", f(f"omx-{mtu}", job, "cpu_s_gib"),
                           f("nbd", job, "cpu_s_gib"), 1.0, "CPU-s/GiB", op="<="))
    out.append(retx_bar(results))
    return out


def omx_jobs(results):
    """(label, link counters) of every omx job of the run."""
    for cfg, jobs in results["fio"].items():
        if cfg.startswith("omx"):
            for job, r in jobs.items():
                yield f"fio {cfg} {job}", r.get("link", {})
    for cfg, by_pct in results["decode"].items():
        if cfg.startswith("omx"):
            for pct, j in by_pct.items():
                yield f"decode {cfg} {pct}%", j.get("link", {})
    for cfg, j in results["kv"].items():
        if cfg.startswith("omx"):
            yield f"kv {cfg}", j.get("link", {})


def retx_bar(results):
    """The worst omx job's retransmitted frames, as a share of the frames its side sent."""
    worst = None
    for label, lk in omx_jobs(results):
        if lk.get("retx_pct") is not None and (worst is None or lk["retx_pct"] > worst[1]):
            worst = (label, lk["retx_pct"])
    return bar("retransmitted frames, % of frames sent, worst omx job", worst and worst[1], "<=",
               MAX_RETX_PCT, f"{worst[0]}" if worst else "")
