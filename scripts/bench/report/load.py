"""Reads a `make bench` run directory (what the VMs wrote under <run>/<phase>/shared/res) into
one dict: fio jobs, raw-link tests, decode and key-value runs, each with the CPU use of both
VMs, the link's drops and omx's frames and retransmissions during it."""
import glob
import json
import os

FIO_JOBS = ["randread-4k-qd1", "randwrite-4k-qd1", "randread-4k-qd32", "randwrite-4k-qd32",
            "read-64k-qd8", "write-64k-qd8", "read-1m-qd8", "write-1m-qd8"]
BLK_CFGS = ["omx-1500", "omx-1500-nocrc", "omx-1500-macsec", "omx-9000", "nbd", "nvme-tcp", "zram", "brd", "disk"]
SWAP_CFGS = ["local", "disk", "zram", "nbd", "omx-1500", "omx-9000"]
LABEL = {"omx-1500": "omx MTU 1500", "omx-1500-nocrc": "omx 1500 no trailer", "omx-1500-macsec": "omx 1500 MACsec",
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
    # omx-node's counters (runs before the pool-side snapshots have none).
    a, b = load(f"{stat_dir}/{name}.a.pool-omx"), load(f"{stat_dir}/{name}.b.pool-omx")
    if a and b and "frames_tx" in a and "frames_tx" in b:
        for k in ("retransmits", "timeouts", "frames_tx"):
            out[f"pool_{k}"] = b.get(k, 0) - a.get(k, 0)
    # Retransmitted frames as a share of the frames each side sent (percent).
    for side, sent in (("omx", "omx_tx_frames"), ("pool", "pool_frames_tx")):
        if out.get(sent):
            out[f"{side}_retx_pct"] = round(100 * out[f"{side}_retransmits"] / out[sent], 3)
    shares = [out[k] for k in ("omx_retx_pct", "pool_retx_pct") if k in out]
    if shares:
        out["retx_pct"] = max(shares)
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


def cpu_s_per_gib(busy_share, bytes_per_s):
    """CPU-seconds per GiB moved: the share of the VM's one vCPU in use during the job
    (CPU-seconds per second) over the job's GiB per second."""
    if busy_share is None or not bytes_per_s:
        return None
    return round(busy_share * 2**30 / bytes_per_s, 3)




def load_run(run):
    """(results, rows): results as written to results.json, rows flat for results.csv."""
    rows = []  # flat rows for the CSV
    results = {"meta": load(f"{run}/meta.json") or {}, "fio": {}, "link": {}, "stream": {}, "decode": {},
               "kv": {}}
    errors = []
    for p in glob.glob(f"{run}/*/shared/res/errors.txt"):
        errors += [l.strip() for l in open(p) if l.strip()]
    results["errors"] = errors
    for p in glob.glob(f"{run}/*/shared/res/kernel.txt"):
        results["meta"]["guest_uname"] = open(p).read().strip()

    # ---------------------------------------------------------------- fio
    blk = f"{run}/blk/shared/res"
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
            r = results["fio"][cfg][job]
            r["cpu_s_gib"] = cpu_s_per_gib(r["cpu"].get("client", {}).get("busy"), side["bw_bytes"])
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
                         "omx_timeouts": r["link"].get("omx_timeouts"),
                         "client_cpu_s_gib": r["cpu_s_gib"], "retx_pct": r["link"].get("retx_pct")})

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

    # The link's one-way limit (pktgen): stream-MTU.DIRECTION.json, DIRECTION pull or push.
    for p in sorted(glob.glob(f"{blk}/json/stream-*.json")):
        name = os.path.basename(p)[:-5]
        j = load(p)
        if not j:
            continue
        mtu, direction = name[7:].split(".", 1)
        results["stream"][f"{mtu}.{direction}"] = j
        rows.append({"part": "link", "config": f"pktgen-{mtu}", "test": f"{direction}-one-way",
                     "mb_s": j["mb_per_s"]})

    # ---------------------------------------------------------------- swap workloads
    sw = f"{run}/swap/shared/res"

    def swap_counters(stat, name):
        return dict(cpu=busy(stat, name), vmstat=vmstat_delta(stat, name),
                    oom_kills=oom_kills(stat, name), link=link_stats(stat, name),
                    procs=top_procs(stat, name))

    for p in sorted(glob.glob(f"{sw}/json/decode.*.json")):
        name = os.path.basename(p)[:-5]
        _, cfg, pct = name.split(".")
        j = load(p)
        if not j:
            continue
        j.update(swap_counters(f"{sw}/stat", name))
        results["decode"].setdefault(cfg, {})[pct] = j
    for p in sorted(glob.glob(f"{sw}/json/kv.*.json")):
        name = os.path.basename(p)[:-5]
        cfg = name.split(".", 1)[1]
        j = load(p)
        if not j:
            continue
        j.update(swap_counters(f"{sw}/stat", name))
        results["kv"][cfg] = j
    local_tps = results["decode"].get("local", {}).get("100", {}).get("tokens_per_s")
    for cfg, by_pct in results["decode"].items():
        for pct, j in by_pct.items():
            disk = results["decode"].get("disk", {}).get(pct, {}).get("tokens_per_s")
            j["vs_local"], j["vs_disk"] = ratio(j["tokens_per_s"], local_tps), ratio(j["tokens_per_s"], disk)
            secs = j.get("secs") or 0
            pswpin = j["vmstat"].get("pswpin")
            j["swapin_mb_s"] = round(pswpin * 4096 / 1e6 / secs, 2) if secs and pswpin is not None else None
            rows.append({"part": "decode", "config": cfg, "test": f"ram-{pct}pct", "tokens_s": j["tokens_per_s"],
                         "token_ms_p50": j["token_ms_p50"], "vs_local": j["vs_local"], "vs_disk": j["vs_disk"],
                         "swapin_mb_s": j["swapin_mb_s"],
                         "client_cpu": j["cpu"].get("client", {}).get("busy"),
                         "pool_cpu": j["cpu"].get("pool", {}).get("busy"), "oom_kills": j["oom_kills"],
                         "retx_pct": j["link"].get("retx_pct")})
    local_kv = results["kv"].get("local", {}).get("ops_per_s")
    disk_kv = results["kv"].get("disk", {}).get("ops_per_s")
    for cfg, j in results["kv"].items():
        j["vs_local"], j["vs_disk"] = ratio(j["ops_per_s"], local_kv), ratio(j["ops_per_s"], disk_kv)
        rows.append({"part": "kv", "config": cfg, "test": "2x-ram" if cfg != "local" else "all-local",
                     "iops": j["ops_per_s"], "p50_us": j["p50_us"], "p99_us": j["p99_us"],
                     "p999_us": j["p999_us"], "vs_local": j["vs_local"], "vs_disk": j["vs_disk"],
                     "client_cpu": j["cpu"].get("client", {}).get("busy"),
                     "pool_cpu": j["cpu"].get("pool", {}).get("busy"), "oom_kills": j["oom_kills"],
                     "retx_pct": j["link"].get("retx_pct")})

    results["local_tps"], results["local_kv"] = local_tps, local_kv
    return results, rows
