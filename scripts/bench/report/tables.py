"""The report's text outputs: results.json, results.csv and summary.md (one table per part,
then the bars)."""
import csv
import json

from report.bars import link_bandwidth
from report.load import BLK_CFGS, FIO_JOBS, LABEL, SWAP_CFGS, ratio


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


def retx_pct(r):
    """Retransmitted frames as a share of the frames sent, client / pool side."""
    lk = r.get("link", {})
    if "omx_retx_pct" not in lk and "pool_retx_pct" not in lk:
        return "-"
    return f"{fmt(lk.get('omx_retx_pct'), 2)}/{fmt(lk.get('pool_retx_pct'), 2)}"


def vs_link(results):
    """omx against the link at the same MTU: (mtu, job, omx, link, omx p50, link p50); the
    link's request rates from rawpp, its bandwidth from pktgen where the run measured it."""
    out = []
    for mtu in ("1500", "9000"):
        for qd, job in (("1", "randread-4k-qd1"), ("32", "randread-4k-qd32")):
            lk = results["link"].get(f"link-{mtu}.pull-4096-qd{qd}")
            om = results["fio"].get(f"omx-{mtu}", {}).get(job)
            if lk and om:
                out.append((mtu, job, om["iops"], lk["ops_per_s"], om["p50_us"], lk["p50_us"]))
        for job, mode in (("read-1m-qd8", "pull"), ("write-1m-qd8", "push")):
            lk, _ = link_bandwidth(results, mtu, mode)
            om = results["fio"].get(f"omx-{mtu}", {}).get(job)
            if lk and om:
                out.append((mtu, job, om["mb_s"], lk, None, None))
    return out




def write_data(results, rows, out):
    """results.json and results.csv."""
    with open(f"{out}/results.json", "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    cols = ["part", "config", "test", "iops", "mb_s", "p50_us", "p99_us", "p999_us", "tokens_s",
            "token_ms_p50", "swapin_mb_s", "vs_local", "vs_disk", "client_cpu", "pool_cpu", "omx_retransmits",
            "omx_timeouts", "retx_pct", "client_cpu_s_gib", "oom_kills"]
    with open(f"{out}/results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in cols})




def summary(results, bars, out):
    """summary.md (also returned, for printing)."""
    md = []
    m = results["meta"]
    md.append(f"Run {m.get('date', '?')} ({'quick' if m.get('quick') else 'full'} mode), git {m.get('git', '?')}, "
              f"host load {m.get('load_before', '?')} before / {m.get('load_after', '?')} after, "
              f"{m.get('minutes', '?')} min"
              + (f", swap page-cluster {m['page_cluster']}" if "page_cluster" in m else "")
              + ".\n")
    md.append("### fio (ratios: IOPS against brd = all-local RAM, and against the virtio-blk disk)\n")
    md.append("| device | test | IOPS | MB/s | p50 us | p99 us | p99.9 us | x local | x disk | CPU client/pool | "
              "client CPU-s/GiB | omx retx/RTO | retx % client/pool |")
    md.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for job in FIO_JOBS:
        for cfg in BLK_CFGS:
            r = results["fio"].get(cfg, {}).get(job)
            if not r:
                continue
            c = r["cpu"]
            md.append(f"| {LABEL[cfg]} | {job} | {fmt(r['iops'])} | {fmt(r['mb_s'], 1)} | {fmt(r['p50_us'], 1)} | "
                      f"{fmt(r['p99_us'], 1)} | {fmt(r['p999_us'], 1)} | {fmt(r['vs_local'], 2)} | {fmt(r['vs_disk'], 2)} | "
                      f"{pctf(c.get('client', {}).get('busy'))}/{pctf(c.get('pool', {}).get('busy'))} | "
                      f"{fmt(r.get('cpu_s_gib'), 2)} | {retx(r)} | {retx_pct(r)} |")
    md.append("\n### The link's own limit (raw AF_PACKET frames, no protocol) and omx on it\n")
    md.append("| link test | ops/s | MB/s | p50 us | p99 us | lost | CPU client/pool | rx drops client/pool |")
    md.append("|---|--:|--:|--:|--:|--:|--:|--:|")
    for name, j in results["link"].items():
        c = j["cpu"]
        md.append(f"| {name} | {fmt(j['ops_per_s'])} | {fmt(j['mb_per_s'], 1)} | {fmt(j['p50_us'], 1)} | "
                  f"{fmt(j['p99_us'], 1)} | {j['lost']} | {pctf(c.get('client', {}).get('busy'))}/"
                  f"{pctf(c.get('pool', {}).get('busy'))} | {j['link'].get('client_rx_drop', '-')}/{j['link'].get('pool_rx_drop', '-')} |")
    if results.get("stream"):
        md.append("\n### The link's one-way limit (the kernel's pktgen, full frames, counted by the receiver)\n")
        md.append("| MTU | direction | MB/s of Ethernet payload | frames/s |")
        md.append("|---|---|--:|--:|")
        for name, j in sorted(results["stream"].items()):
            mtu, direction = name.split(".")
            way = "pool to client (reads)" if direction == "pull" else "client to pool (writes)"
            md.append(f"| {mtu} | {way} | {fmt(j['mb_per_s'], 1)} | {fmt(j['frames_per_s'])} |")
    vl = vs_link(results)
    if vl:
        md.append("\n| omx against the link | omx | link | omx / link | p50 omx / link us |")
        md.append("|---|--:|--:|--:|--:|")
        for mtu, job, o, l, op, lp in vl:
            unit = "MB/s" if "1m" in job else "ops/s"
            lat = f"{fmt(op, 1)} / {fmt(lp, 1)}" if op is not None else "-"
            md.append(f"| MTU {mtu} {job} ({unit}) | {fmt(o)} | {fmt(l)} | {fmt(ratio(o, l), 2)} | {lat} |")
    if results["decode"]:
        md.append("\n### Decode-shaped workload (tokens/s; ratios against all-local and against disk swap)\n")
        md.append("| swap | RAM (% of weights) | tokens/s | ms/token p50 | x local | x disk | swap-in MB/s | CPU client/pool | "
                  "omx retx/RTO | retx % client/pool | OOM kills |")
        md.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for cfg in SWAP_CFGS:
            for pct in sorted(results["decode"].get(cfg, {}), key=lambda p: -int(p)):
                j = results["decode"][cfg][pct]
                c = j["cpu"]
                md.append(f"| {LABEL[cfg]} | {pct} | {fmt(j['tokens_per_s'], 3)} | {fmt(j['token_ms_p50'])} | "
                          f"{fmt(j['vs_local'], 3)} | {fmt(j['vs_disk'], 2)} | "
                          f"{fmt(j.get('swapin_mb_s'), 1)} | "
                          f"{pctf(c.get('client', {}).get('busy'))}/{pctf(c.get('pool', {}).get('busy'))} | {retx(j)} | "
                          f"{retx_pct(j)} | {j['oom_kills']} |")
    if results["kv"]:
        md.append("\n### Key-value workload (data 2x the RAM limit; uniform random keys, 90% GET)\n")
        md.append("| swap | ops/s | p50 us | p99 us | p99.9 us | x local | x disk | CPU client/pool | omx retx/RTO | "
                  "retx % client/pool | OOM kills |")
        md.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for cfg in SWAP_CFGS:
            j = results["kv"].get(cfg)
            if not j:
                continue
            c = j["cpu"]
            md.append(f"| {LABEL[cfg]} | {fmt(j['ops_per_s'])} | {fmt(j['p50_us'], 1)} | {fmt(j['p99_us'], 1)} | "
                      f"{fmt(j['p999_us'], 1)} | {fmt(j['vs_local'], 4)} | {fmt(j['vs_disk'], 2)} | "
                      f"{pctf(c.get('client', {}).get('busy'))}/{pctf(c.get('pool', {}).get('busy'))} | {retx(j)} | "
                      f"{retx_pct(j)} | {j['oom_kills']} |")
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
    md.append("\n### The bars of issue #17 (ratios within this run)\n")
    md.append("| bar | measured | threshold | met |")
    md.append("|---|--:|--:|---|")
    for b in bars:
        val = "-" if b["value"] is None else f"{b['value']:.2f}" + (f" ({b['detail']})" if b["detail"] else "")
        met = "not measured" if b["met"] is None else "yes" if b["met"] else "no"
        md.append(f"| {b['bar']} | {val} | {b['op']} {b['threshold']} | {met} |")
    n_met = sum(1 for b in bars if b["met"])
    n_meas = sum(1 for b in bars if b["met"] is not None)
    md.append(f"\n{n_met} of {n_meas} measured bars met; {len(bars) - n_meas} not measured in this run.")
    errors = results["errors"]
    if errors:
        md.append("\nSteps that failed: " + "; ".join(errors))
    with open(f"{out}/summary.md", "w") as f:
        f.write("\n".join(md) + "\n")
    return "\n".join(md) + "\n"

