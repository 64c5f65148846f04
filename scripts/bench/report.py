#!/usr/bin/python3
"""Summary of a `make bench` run (scripts/bench.sh): reads the run directory the VMs wrote,
prints one table per part with every figure also as a ratio to all-local and to the disk,
checks the project's bars, and writes results.csv, results.json, summary.md and PNG plots.

usage: report.py RUN_DIR OUT_DIR
"""
import csv
import glob
import json
import os
import sys

RUN, OUT = sys.argv[1], sys.argv[2]
os.makedirs(OUT, exist_ok=True)

FIO_JOBS = ["randread-4k-qd1", "randwrite-4k-qd1", "randread-4k-qd32", "randwrite-4k-qd32",
            "read-64k-qd8", "write-64k-qd8", "read-1m-qd8", "write-1m-qd8"]
BLK_CFGS = ["omx-1500", "omx-1500-nocrc", "omx-1500-macsec", "omx-9000", "nbd", "nvme-tcp", "zram", "brd", "disk"]
SWAP_CFGS = ["local", "disk", "zram", "nbd", "omx-1500", "omx-9000"]
LABEL = {"omx-1500": "omx MTU 1500", "omx-1500-nocrc": "omx 1500 no CRC", "omx-1500-macsec": "omx 1500 MACsec",
         "omx-9000": "omx MTU 9000", "nbd": "nbd/TCP",
         "nvme-tcp": "NVMe/TCP", "zram": "zram", "brd": "brd (local RAM)",
         "disk": "virtio-blk disk", "local": "all local"}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def cpu(path):
    """cpu line of /proc/stat: (total, busy, softirq, system, user) jiffies."""
    try:
        for line in open(path):
            if line.startswith("cpu "):
                v = [int(x) for x in line.split()[1:]]
                user, nice, system, idle, iowait, irq, softirq = v[:7]
                steal = v[7] if len(v) > 7 else 0
                total = user + nice + system + idle + iowait + irq + softirq + steal
                return total, total - idle - iowait, softirq + irq, system, user + nice
    except OSError:
        pass
    return None


def uptime(path):
    """(seconds up, seconds idle) from the "uptime " line (a copy of /proc/uptime)."""
    try:
        for line in open(path):
            if line.startswith("uptime "):
                up, idle = line.split()[1:3]
                return float(up), float(idle)
    except (OSError, ValueError):
        pass
    return None


def busy(stat_dir, name):
    """CPU use of both VMs (one vCPU each) during test NAME: {client: {busy, irq, sys, user}, ...}.
    busy = 1 - (idle + iowait) / wall-clock time (/proc/uptime); idle and the irq (hard + soft),
    sys and user shares are tick samples (the guest kernel is HZ_PERIODIC), rough under TCG."""
    out = {}
    for vm in ("client", "pool"):
        a, b = cpu(f"{stat_dir}/{name}.a.{vm}"), cpu(f"{stat_dir}/{name}.b.{vm}")
        ua, ub = uptime(f"{stat_dir}/{name}.a.{vm}"), uptime(f"{stat_dir}/{name}.b.{vm}")
        if a and b and b[0] > a[0]:
            t = b[0] - a[0]
            out[vm] = {k: round((b[i] - a[i]) / t, 3)
                       for i, k in ((1, "busy"), (2, "irq"), (3, "sys"), (4, "user"))}
            if ua and ub and ub[0] > ua[0]:
                idle = (t - (b[1] - a[1])) / 100  # idle + iowait, USER_HZ ticks
                out[vm]["busy"] = round(min(1.0, max(0.0, 1 - idle / (ub[0] - ua[0]))), 3)
                out[vm]["secs"] = round(ub[0] - ua[0], 2)
    return out


def proc_times(path):
    """{(pid, comm): utime + stime} from the "proc " lines (copies of /proc/PID/stat)."""
    out = {}
    try:
        for line in open(path):
            if not line.startswith("proc "):
                continue
            line = line[5:]
            pid, rest = line.split(" ", 1)
            comm = rest[rest.index("(") + 1:rest.rindex(")")]
            f = rest[rest.rindex(")") + 2:].split()
            out[(pid, comm)] = int(f[11]) + int(f[12])
    except (OSError, ValueError, IndexError):
        pass
    return out


# The benchmark's own helpers (snapshots, the pool's control server): not part of any result.
TOOLING = {"python3", "cat", "sed", "bash", "ps", "jq", "omxctl", "sleep"}


def top_procs(stat_dir, name, n=3):
    """The processes that used most CPU during test NAME, per VM: [[comm, share of the test's
    wall-clock time]] (per-process CPU time is measured; the benchmark's helpers are left out)."""
    out = {}
    for vm in ("client", "pool"):
        a, b = proc_times(f"{stat_dir}/{name}.a.{vm}"), proc_times(f"{stat_dir}/{name}.b.{vm}")
        ua, ub = uptime(f"{stat_dir}/{name}.a.{vm}"), uptime(f"{stat_dir}/{name}.b.{vm}")
        if not b or not ua or not ub or ub[0] <= ua[0]:
            continue
        t = (ub[0] - ua[0]) * 100  # USER_HZ
        by = {}
        for k, v in b.items():
            d = v - a.get(k, 0)
            comm = k[1].split("/")[0]
            if d > 0 and comm not in TOOLING:
                by[comm] = by.get(comm, 0) + d
        out[vm] = [[c, round(d / t, 3)] for c, d in sorted(by.items(), key=lambda x: -x[1])[:n]]
    return out


def netdev(path):
    """eth0 of /proc/net/dev: rx/tx packets and drops."""
    try:
        for line in open(path):
            if line.strip().startswith("eth0:"):
                v = [int(x) for x in line.split(":", 1)[1].split()]
                return {"rx_packets": v[1], "rx_drop": v[3] + v[4], "tx_packets": v[9], "tx_drop": v[11] + v[12]}
    except (OSError, ValueError, IndexError):
        pass
    return None


def link_stats(stat_dir, name):
    """Frames dropped by either VM and omx retransmissions during test NAME."""
    out = {}
    for vm in ("client", "pool"):
        a, b = netdev(f"{stat_dir}/{name}.a.{vm}"), netdev(f"{stat_dir}/{name}.b.{vm}")
        if a and b:
            out[f"{vm}_rx_drop"] = b["rx_drop"] - a["rx_drop"]
            out[f"{vm}_tx_drop"] = b["tx_drop"] - a["tx_drop"]
    a, b = load(f"{stat_dir}/{name}.a.omx"), load(f"{stat_dir}/{name}.b.omx")
    if a and b:
        for k in ("retransmits", "timeouts", "tx_frames", "rx_frames"):
            out[f"omx_{k}"] = b["stats"].get(k, 0) - a["stats"].get(k, 0)
    return out


def vmstat_delta(stat_dir, name, keys=("pswpin", "pswpout", "pgmajfault")):
    def read(p):
        try:
            return {l.split()[0]: int(l.split()[1]) for l in open(p)}
        except OSError:
            return None
    a, b = read(f"{stat_dir}/{name}.a.vmstat"), read(f"{stat_dir}/{name}.b.vmstat")
    if not a or not b:
        return {}
    return {k: b.get(k, 0) - a.get(k, 0) for k in keys}


def oom_kills(stat_dir, name):
    def read(p):
        try:
            return {l.split()[0]: int(l.split()[1]) for l in open(p)}
        except OSError:
            return {}
    a, b = read(f"{stat_dir}/{name}.events.a"), read(f"{stat_dir}/{name}.events.b")
    return b.get("oom_kill", 0) - a.get("oom_kill", 0)


def ratio(x, base):
    return round(x / base, 3) if x is not None and base else None


rows = []  # flat rows for the CSV
results = {"meta": load(f"{RUN}/meta.json") or {}, "fio": {}, "link": {}, "decode": {}, "kv": {}}
errors = []
for p in glob.glob(f"{RUN}/*/shared/res/errors.txt"):
    errors += [l.strip() for l in open(p) if l.strip()]
results["errors"] = errors
for p in glob.glob(f"{RUN}/*/shared/res/kernel.txt"):
    results["meta"]["guest_uname"] = open(p).read().strip()

# ---------------------------------------------------------------- fio
blk = f"{RUN}/blk/shared/res"
for cfg in BLK_CFGS:
    for job in FIO_JOBS:
        j = load(f"{blk}/fio/{cfg}.{job}.json")
        if not j or not j.get("jobs"):
            continue
        jb = j["jobs"][0]
        side = jb["read"] if "read" in job else jb["write"]
        pct = side.get("clat_ns", {}).get("percentile", {})
        results["fio"].setdefault(cfg, {})[job] = {
            "iops": round(side["iops"], 1),
            "mb_s": round(side["bw_bytes"] / 1e6, 2),
            "p50_us": round(pct.get("50.000000", 0) / 1e3, 1),
            "p99_us": round(pct.get("99.000000", 0) / 1e3, 1),
            "p999_us": round(pct.get("99.900000", 0) / 1e3, 1),
            "errors": jb.get("error", 0),
            "cpu": busy(f"{blk}/stat", f"fio.{cfg}.{job}"),
            "link": link_stats(f"{blk}/stat", f"fio.{cfg}.{job}"),
            "procs": top_procs(f"{blk}/stat", f"fio.{cfg}.{job}"),
        }
for cfg, jobs in results["fio"].items():
    for job, r in jobs.items():
        loc = results["fio"].get("brd", {}).get(job, {}).get("iops")
        dsk = results["fio"].get("disk", {}).get(job, {}).get("iops")
        r["vs_local"], r["vs_disk"] = ratio(r["iops"], loc), ratio(r["iops"], dsk)
        rows.append({"part": "fio", "config": cfg, "test": job, "iops": r["iops"], "mb_s": r["mb_s"],
                     "p50_us": r["p50_us"], "p99_us": r["p99_us"], "p999_us": r["p999_us"],
                     "vs_local": r["vs_local"], "vs_disk": r["vs_disk"],
                     "client_cpu": r["cpu"].get("client", {}).get("busy"),
                     "pool_cpu": r["cpu"].get("pool", {}).get("busy"),
                     "omx_retransmits": r["link"].get("omx_retransmits"),
                     "omx_timeouts": r["link"].get("omx_timeouts")})

# ---------------------------------------------------------------- link
for p in sorted(glob.glob(f"{blk}/json/link-*.json")):
    name = os.path.basename(p)[:-5]
    j = load(p)
    if not j:
        continue
    j["cpu"] = busy(f"{blk}/stat", name)
    j["link"] = link_stats(f"{blk}/stat", name)
    j["procs"] = top_procs(f"{blk}/stat", name)
    results["link"][name] = j
    mtu, test = name[5:].split(".", 1)
    rows.append({"part": "link", "config": f"raw-{mtu}", "test": test, "iops": j["ops_per_s"],
                 "mb_s": j["mb_per_s"], "p50_us": j["p50_us"], "p99_us": j["p99_us"],
                 "p999_us": j["p999_us"], "client_cpu": j["cpu"].get("client", {}).get("busy"),
                 "pool_cpu": j["cpu"].get("pool", {}).get("busy")})

# ---------------------------------------------------------------- swap workloads
sw = f"{RUN}/swap/shared/res"
for p in sorted(glob.glob(f"{sw}/json/decode.*.json")):
    name = os.path.basename(p)[:-5]
    _, cfg, pct = name.split(".")
    j = load(p)
    if not j:
        continue
    j.update(cpu=busy(f"{sw}/stat", name), vmstat=vmstat_delta(f"{sw}/stat", name),
             oom_kills=oom_kills(f"{sw}/stat", name), link=link_stats(f"{sw}/stat", name),
             procs=top_procs(f"{sw}/stat", name))
    results["decode"].setdefault(cfg, {})[pct] = j
for p in sorted(glob.glob(f"{sw}/json/kv.*.json")):
    name = os.path.basename(p)[:-5]
    cfg = name.split(".", 1)[1]
    j = load(p)
    if not j:
        continue
    j.update(cpu=busy(f"{sw}/stat", name), vmstat=vmstat_delta(f"{sw}/stat", name),
             oom_kills=oom_kills(f"{sw}/stat", name), link=link_stats(f"{sw}/stat", name),
             procs=top_procs(f"{sw}/stat", name))
    results["kv"][cfg] = j
local_tps = results["decode"].get("local", {}).get("100", {}).get("tokens_per_s")
for cfg, by_pct in results["decode"].items():
    for pct, j in by_pct.items():
        disk = results["decode"].get("disk", {}).get(pct, {}).get("tokens_per_s")
        j["vs_local"], j["vs_disk"] = ratio(j["tokens_per_s"], local_tps), ratio(j["tokens_per_s"], disk)
        secs = j.get("secs") or 0
        rows.append({"part": "decode", "config": cfg, "test": f"ram-{pct}pct", "tokens_s": j["tokens_per_s"],
                     "token_ms_p50": j["token_ms_p50"], "vs_local": j["vs_local"], "vs_disk": j["vs_disk"],
                     "swapin_mb_s": round(j["vmstat"].get("pswpin", 0) * 4096 / 1e6 / secs, 2) if secs else None,
                     "client_cpu": j["cpu"].get("client", {}).get("busy"),
                     "pool_cpu": j["cpu"].get("pool", {}).get("busy"), "oom_kills": j["oom_kills"]})
local_kv = results["kv"].get("local", {}).get("ops_per_s")
disk_kv = results["kv"].get("disk", {}).get("ops_per_s")
for cfg, j in results["kv"].items():
    j["vs_local"], j["vs_disk"] = ratio(j["ops_per_s"], local_kv), ratio(j["ops_per_s"], disk_kv)
    rows.append({"part": "kv", "config": cfg, "test": "2x-ram" if cfg != "local" else "all-local",
                 "iops": j["ops_per_s"], "p50_us": j["p50_us"], "p99_us": j["p99_us"],
                 "p999_us": j["p999_us"], "vs_local": j["vs_local"], "vs_disk": j["vs_disk"],
                 "client_cpu": j["cpu"].get("client", {}).get("busy"),
                 "pool_cpu": j["cpu"].get("pool", {}).get("busy"), "oom_kills": j["oom_kills"]})

# ---------------------------------------------------------------- bars
def fio_iops(cfg, job):
    return results["fio"].get(cfg, {}).get(job, {}).get("iops")


bars = []
for omx in ("omx-1500", "omx-9000"):
    for job, want in (("randread-4k-qd1", 2.0), ("randread-4k-qd32", 1.5)):
        r = ratio(fio_iops(omx, job), fio_iops("nbd", job))
        bars.append({"bar": f"{job} IOPS {omx} / nbd >= {want}", "ratio": r,
                     "met": r is not None and r >= want})
    d = results["decode"].get(omx, {}).get("70", {}).get("vs_disk")
    bars.append({"bar": f"decode at 70% RAM {omx} / disk >= 2.0", "ratio": d, "met": d is not None and d >= 2.0})
results["bars"] = bars

# ---------------------------------------------------------------- outputs
with open(f"{OUT}/results.json", "w") as f:
    json.dump(results, f, indent=1, sort_keys=True)
cols = ["part", "config", "test", "iops", "mb_s", "p50_us", "p99_us", "p999_us", "tokens_s",
        "token_ms_p50", "swapin_mb_s", "vs_local", "vs_disk", "client_cpu", "pool_cpu", "omx_retransmits",
        "omx_timeouts", "oom_kills"]
with open(f"{OUT}/results.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=cols)
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k, "") for k in cols})


def fmt(v, nd=0):
    if v is None or v == "":
        return "-"
    if isinstance(v, float) and nd:
        return f"{v:.{nd}f}"
    if isinstance(v, (int, float)):
        return f"{v:,.0f}" if abs(v) >= 100 or nd == 0 else f"{v:.1f}"
    return str(v)


def retx(r):
    lk = r.get("link", {})
    return f"{lk['omx_retransmits']}/{lk['omx_timeouts']}" if "omx_retransmits" in lk else "-"


def pctf(v):
    return "-" if v is None else f"{v * 100:.0f}%"


md = []
m = results["meta"]
md.append(f"Run {m.get('date', '?')} ({'quick' if m.get('quick') else 'full'} mode), git {m.get('git', '?')}, "
          f"host load {m.get('load_before', '?')} before / {m.get('load_after', '?')} after, "
          f"{m.get('minutes', '?')} min.\n")
md.append("### fio (ratios: IOPS against brd = all-local RAM, and against the virtio-blk disk)\n")
md.append("| device | test | IOPS | MB/s | p50 us | p99 us | p99.9 us | x local | x disk | CPU client/pool | omx retx/RTO |")
md.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for job in FIO_JOBS:
    for cfg in BLK_CFGS:
        r = results["fio"].get(cfg, {}).get(job)
        if not r:
            continue
        c = r["cpu"]
        md.append(f"| {LABEL[cfg]} | {job} | {fmt(r['iops'])} | {fmt(r['mb_s'], 1)} | {fmt(r['p50_us'], 1)} | "
                  f"{fmt(r['p99_us'], 1)} | {fmt(r['p999_us'], 1)} | {fmt(r['vs_local'], 2)} | {fmt(r['vs_disk'], 2)} | "
                  f"{pctf(c.get('client', {}).get('busy'))}/{pctf(c.get('pool', {}).get('busy'))} | {retx(r)} |")
md.append("\n### The link's own limit (raw AF_PACKET frames, no protocol) and omx on it\n")
md.append("| link test | ops/s | MB/s | p50 us | p99 us | lost | CPU client/pool | rx drops client/pool |")
md.append("|---|--:|--:|--:|--:|--:|--:|--:|")
for name, j in results["link"].items():
    c = j["cpu"]
    md.append(f"| {name} | {fmt(j['ops_per_s'])} | {fmt(j['mb_per_s'], 1)} | {fmt(j['p50_us'], 1)} | "
              f"{fmt(j['p99_us'], 1)} | {j['lost']} | {pctf(c.get('client', {}).get('busy'))}/"
              f"{pctf(c.get('pool', {}).get('busy'))} | {j['link'].get('client_rx_drop', '-')}/{j['link'].get('pool_rx_drop', '-')} |")
vs_link = []
for mtu in ("1500", "9000"):
    frag = "1024" if mtu == "1500" else "4096"
    for qd, job in (("1", "randread-4k-qd1"), ("32", "randread-4k-qd32")):
        lk = results["link"].get(f"link-{mtu}.pull-4096-qd{qd}")
        om = results["fio"].get(f"omx-{mtu}", {}).get(job)
        if lk and om:
            vs_link.append((mtu, job, om["iops"], lk["ops_per_s"], om["p50_us"], lk["p50_us"]))
    for job, mode in (("read-1m-qd8", "pull"), ("write-1m-qd8", "push")):
        lk = results["link"].get(f"link-{mtu}.{mode}-65536-qd8")
        om = results["fio"].get(f"omx-{mtu}", {}).get(job)
        if lk and om:
            vs_link.append((mtu, job, om["mb_s"], lk["mb_per_s"], None, None))
if vs_link:
    md.append("\n| omx against the link | omx | link | omx / link | p50 omx / link us |")
    md.append("|---|--:|--:|--:|--:|")
    for mtu, job, o, l, op, lp in vs_link:
        unit = "MB/s" if "1m" in job else "ops/s"
        lat = f"{fmt(op, 1)} / {fmt(lp, 1)}" if op is not None else "-"
        md.append(f"| MTU {mtu} {job} ({unit}) | {fmt(o)} | {fmt(l)} | {fmt(ratio(o, l), 2)} | {lat} |")
md.append("\n### Decode-shaped workload (tokens/s; ratios against all-local and against disk swap)\n")
md.append("| swap | RAM (% of weights) | tokens/s | ms/token p50 | x local | x disk | swap-in MB/s | CPU client/pool | omx retx/RTO | OOM kills |")
md.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for cfg in SWAP_CFGS:
    for pct in sorted(results["decode"].get(cfg, {}), key=lambda p: -int(p)):
        j = results["decode"][cfg][pct]
        c = j["cpu"]
        secs = j.get("secs") or 1
        md.append(f"| {LABEL[cfg]} | {pct} | {fmt(j['tokens_per_s'], 3)} | {fmt(j['token_ms_p50'])} | "
                  f"{fmt(j['vs_local'], 3)} | {fmt(j['vs_disk'], 2)} | "
                  f"{fmt(j['vmstat'].get('pswpin', 0) * 4096 / 1e6 / secs, 1)} | "
                  f"{pctf(c.get('client', {}).get('busy'))}/{pctf(c.get('pool', {}).get('busy'))} | {retx(j)} | {j['oom_kills']} |")
md.append("\n### Key-value workload (data 2x the RAM limit; uniform random keys, 90% GET)\n")
md.append("| swap | ops/s | p50 us | p99 us | p99.9 us | x local | x disk | CPU client/pool | omx retx/RTO | OOM kills |")
md.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for cfg in SWAP_CFGS:
    j = results["kv"].get(cfg)
    if not j:
        continue
    c = j["cpu"]
    md.append(f"| {LABEL[cfg]} | {fmt(j['ops_per_s'])} | {fmt(j['p50_us'], 1)} | {fmt(j['p99_us'], 1)} | "
              f"{fmt(j['p999_us'], 1)} | {fmt(j['vs_local'], 4)} | {fmt(j['vs_disk'], 2)} | "
              f"{pctf(c.get('client', {}).get('busy'))}/{pctf(c.get('pool', {}).get('busy'))} | {retx(j)} | {j['oom_kills']} |")
md.append("\n### Where the CPU went (share of each VM's one vCPU: busy, irq+softirq (tick-sampled), top processes)\n")
md.append("| test | client busy (irq) | client top | pool busy (irq) | pool top |")
md.append("|---|--:|---|--:|---|")


def tops(lst):
    return ", ".join(f"{c} {v * 100:.0f}%" for c, v in lst) or "-"


def where(label, r):
    c, p = r.get("cpu", {}), r.get("procs", {})
    cc, pc = c.get("client", {}), c.get("pool", {})
    md.append(f"| {label} | {pctf(cc.get('busy'))} ({pctf(cc.get('irq'))}) | {tops(p.get('client', []))} | "
              f"{pctf(pc.get('busy'))} ({pctf(pc.get('irq'))}) | {tops(p.get('pool', []))} |")


for job in ("randread-4k-qd1", "randread-4k-qd32", "read-1m-qd8"):
    for cfg in ("omx-1500", "omx-1500-nocrc", "omx-1500-macsec", "omx-9000", "nbd", "nvme-tcp"):
        r = results["fio"].get(cfg, {}).get(job)
        if r:
            where(f"fio {job} {LABEL[cfg]}", r)
for name in ("link-1500.pull-4096-qd1", "link-1500.pull-4096-qd32", "link-9000.pull-4096-qd32"):
    if name in results["link"]:
        where(name, results["link"][name])
for cfg in SWAP_CFGS:
    j = results["decode"].get(cfg, {}).get("70")
    if j:
        where(f"decode 70% {LABEL[cfg]}", j)
# What the link's authentication costs omx (MACsec: 802.1AE, GCM-AES-128, encrypting).
sec = results["fio"].get("omx-1500-macsec", {})
plain = results["fio"].get("omx-1500", {})
if sec and plain:
    md.append("\n### What an authenticated link costs (omx over MACsec / omx on plain Ethernet, MTU 1500)\n")
    md.append("| job | plain | MACsec | MACsec / plain |")
    md.append("|---|--:|--:|--:|")
    for job in FIO_JOBS:
        a, b = plain.get(job, {}).get("iops"), sec.get(job, {}).get("iops")
        if a and b:
            md.append(f"| {job} (IOPS) | {fmt(a)} | {fmt(b)} | {fmt(b / a, 2)} |")
md.append("\n### The bars (ratios within this run)\n")
md.append("| bar | measured | met |")
md.append("|---|--:|---|")
for b in bars:
    md.append(f"| {b['bar']} | {fmt(b['ratio'], 2)} | {'yes' if b['met'] else 'no'} |")
if errors:
    md.append("\nSteps that failed: " + "; ".join(errors))
summary = "\n".join(md) + "\n"
with open(f"{OUT}/summary.md", "w") as f:
    f.write(summary)
print(summary)

# ---------------------------------------------------------------- plots
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"omx-1500": "#1f77b4", "omx-1500-nocrc": "#aec7e8", "omx-1500-macsec": "#393b79", "omx-9000": "#17becf", "nbd": "#ff7f0e", "nvme-tcp": "#d62728",
          "zram": "#9467bd", "brd": "#2ca02c", "disk": "#7f7f7f", "local": "#2ca02c"}
title_tail = f"({'quick' if m.get('quick') else 'full'} run {m.get('date', '')[:10]}, QEMU TCG: compare ratios, not absolutes)"


def grouped(ax, groups, cfgs, value, ylabel, log=False):
    width = 0.8 / max(1, len(cfgs))
    for i, cfg in enumerate(cfgs):
        ys = [value(cfg, g) or 0 for g in groups]
        ax.bar([x + i * width for x in range(len(groups))], ys, width, label=LABEL[cfg], color=COLORS[cfg])
    ax.set_xticks([x + width * (len(cfgs) - 1) / 2 for x in range(len(groups))])
    ax.set_xticklabels(groups, fontsize=8)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)


cfgs = [c for c in BLK_CFGS if c in results["fio"]]
if cfgs:
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    grouped(axes[0], FIO_JOBS[:4], cfgs, lambda c, g: fio_iops(c, g), "IOPS (log)", log=True)
    axes[0].set_title("4 KiB random I/O")
    grouped(axes[1], FIO_JOBS[4:], cfgs, lambda c, g: results["fio"].get(c, {}).get(g, {}).get("mb_s"),
            "MB/s")
    axes[1].set_title("sequential I/O")
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle("fio on the client VM's block devices " + title_tail, fontsize=9)
    fig.tight_layout()
    fig.savefig(f"{OUT}/fio.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, (job, hatch) in enumerate((("randread-4k-qd1", ""), ("randwrite-4k-qd1", "//"))):
        for j, cfg in enumerate(cfgs):
            r = results["fio"].get(cfg, {}).get(job)
            if not r:
                continue
            x = i * (len(cfgs) + 1) + j
            ax.bar(x, r["p50_us"], color=COLORS[cfg], hatch=hatch, label=LABEL[cfg] if i == 0 else None)
            ax.errorbar(x, r["p50_us"], yerr=[[0], [max(0, r["p99_us"] - r["p50_us"])]], color="black",
                        capsize=3)
    ax.set_xticks([(len(cfgs) - 1) / 2, len(cfgs) + 1 + (len(cfgs) - 1) / 2])
    ax.set_xticklabels(["4 KiB random read, QD 1", "4 KiB random write, QD 1"])
    ax.set_ylabel("completion latency, us (bar p50, whisker p99; log)")
    ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title("QD 1 latency " + title_tail, fontsize=9)
    fig.tight_layout()
    fig.savefig(f"{OUT}/fio-latency.png", dpi=110)
    plt.close(fig)

dcfgs = [c for c in SWAP_CFGS if c in results["decode"] and c != "local"]
if dcfgs or results["kv"]:
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    pcts = sorted({p for c in dcfgs for p in results["decode"][c]}, key=lambda p: -int(p))
    if dcfgs:
        grouped(axes[0], [f"{p}% RAM" for p in pcts], dcfgs,
                lambda c, g: results["decode"][c].get(g.split("%")[0], {}).get("tokens_per_s"), "tokens/s")
        if local_tps:
            axes[0].axhline(local_tps, color=COLORS["local"], ls="--", label=f"all local ({local_tps:.2f})")
            axes[0].set_yscale("log")
        axes[0].legend(fontsize=8, loc="upper right")
        axes[0].set_title("decode-shaped workload: tokens/s (log)")
    kcfgs = [c for c in SWAP_CFGS if c in results["kv"] and c != "local"]
    if kcfgs:
        xs = range(len(kcfgs))
        axes[1].bar(xs, [results["kv"][c]["ops_per_s"] for c in kcfgs], color=[COLORS[c] for c in kcfgs])
        axes[1].set_xticks(list(xs))
        axes[1].set_xticklabels([LABEL[c] for c in kcfgs], fontsize=8)
        axes[1].set_ylabel("ops/s (bars)")
        ax2 = axes[1].twinx()
        ax2.plot(list(xs), [results["kv"][c]["p99_us"] for c in kcfgs], "ko-", label="p99 latency")
        ax2.set_ylabel("p99 latency, us (dots)")
        axes[1].set_title("key-value, data 2x RAM limit" +
                          (f" (all local: {local_kv:,.0f} ops/s)" if local_kv else ""))
        axes[1].grid(axis="y", alpha=0.3)
    fig.suptitle("swap workloads in a memory cgroup " + title_tail, fontsize=9)
    fig.tight_layout()
    fig.savefig(f"{OUT}/swap.png", dpi=110)
    plt.close(fig)

if vs_link:
    fig, ax = plt.subplots(figsize=(9, 4.5))
    labels = [f"MTU {mtu}\n{job}" for mtu, job, *_ in vs_link]
    xs = range(len(vs_link))
    ax.bar([x - 0.2 for x in xs], [r[3] for r in vs_link], 0.4, label="raw link (rawpp)", color="#bbbbbb")
    ax.bar([x + 0.2 for x in xs], [r[2] for r in vs_link], 0.4, label="omx (fio)", color=COLORS["omx-1500"])
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("ops/s or MB/s (log)")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("omx against the raw link " + title_tail, fontsize=9)
    fig.tight_layout()
    fig.savefig(f"{OUT}/link.png", dpi=110)
    plt.close(fig)
print(f"bench: results in {OUT}: results.csv, results.json, summary.md, *.png")
