"""The report's plots: fio.png, fio-latency.png, swap.png, link.png. Log scales wherever the
devices differ by orders of magnitude (a local RAM disk next to a network device)."""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as ticker  # noqa: E402

from report.load import BLK_CFGS, FIO_JOBS, LABEL, SWAP_CFGS  # noqa: E402
from report.tables import vs_link  # noqa: E402

COLORS = {"omx-1500": "#1f77b4", "omx-1500-nocrc": "#aec7e8", "omx-1500-macsec": "#393b79", "omx-9000": "#17becf", "nbd": "#ff7f0e", "nvme-tcp": "#d62728",
          "zram": "#9467bd", "brd": "#2ca02c", "disk": "#7f7f7f", "local": "#2ca02c"}


def log_axis(ax, values):
    """A log y axis that starts a decade below the smallest value (so bar heights compare),
    with plain numbers on it."""
    ax.set_yscale("log")
    pos = [v for v in values if v and v > 0]
    if pos:
        ax.set_ylim(bottom=10 ** math.floor(math.log10(min(pos)) - 1e-9))
    plain = ticker.FuncFormatter(lambda v, _: f"{v:,.{0 if v >= 1 else 2}f}")
    ax.yaxis.set_major_formatter(plain)
    # Within about a decade there is one major tick at most: label the minor ones then.
    if pos and max(pos) / min(pos) < 10:
        ax.yaxis.set_minor_formatter(plain)
        ax.tick_params(axis="y", which="minor", labelsize=7)
    else:
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())


def grouped(ax, groups, cfgs, value, ylabel, log=False):
    """Bars per group (a job, a RAM limit), one per configuration; groups no configuration
    has a figure for (left out of a partial run) are left out."""
    groups = [g for g in groups if any(value(c, g) for c in cfgs)] or groups
    width = 0.8 / max(1, len(cfgs))
    ys_all = []
    for i, cfg in enumerate(cfgs):
        ys = [value(cfg, g) or 0 for g in groups]
        ys_all += ys
        ax.bar([x + i * width for x in range(len(groups))], ys, width, label=LABEL[cfg], color=COLORS[cfg])
    ax.set_xticks([x + width * (len(cfgs) - 1) / 2 for x in range(len(groups))])
    ax.set_xticklabels(groups, fontsize=8)
    ax.set_ylabel(ylabel)
    if log:
        log_axis(ax, ys_all)
    ax.grid(axis="y", alpha=0.3)


def plots(results, out):
    m = results["meta"]
    local_tps, local_kv = results.get("local_tps"), results.get("local_kv")
    title_tail = f"({'quick' if m.get('quick') else 'full'} run {m.get('date', '')[:10]}, QEMU TCG: compare ratios, not absolutes)"
    cfgs = [c for c in BLK_CFGS if c in results["fio"]]
    if cfgs:
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
        grouped(axes[0], FIO_JOBS[:4], cfgs, lambda c, g: results["fio"].get(c, {}).get(g, {}).get("iops"), "IOPS (log)", log=True)
        axes[0].set_title("4 KiB random I/O")
        grouped(axes[1], FIO_JOBS[4:], cfgs, lambda c, g: results["fio"].get(c, {}).get(g, {}).get("mb_s"),
                "MB/s (log)", log=True)
        axes[1].set_title("sequential I/O")
        axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.suptitle("fio on the client VM's block devices " + title_tail, fontsize=9)
        fig.tight_layout()
        fig.savefig(f"{out}/fio.png", dpi=110)
        plt.close(fig)

    qd1 = ("randread-4k-qd1", "randwrite-4k-qd1")
    if any(j in results["fio"].get(c, {}) for c in cfgs for j in qd1):
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
        fig.savefig(f"{out}/fio-latency.png", dpi=110)
        plt.close(fig)

    dcfgs = [c for c in SWAP_CFGS if c in results["decode"] and c != "local"]
    if dcfgs or results["kv"]:
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
        pcts = sorted({p for c in dcfgs for p in results["decode"][c]}, key=lambda p: -int(p))
        if dcfgs:
            grouped(axes[0], [f"{p}% RAM" for p in pcts], dcfgs,
                    lambda c, g: results["decode"][c].get(g.split("%")[0], {}).get("tokens_per_s"), "tokens/s", log=True)
            if local_tps:
                axes[0].axhline(local_tps, color=COLORS["local"], ls="--", label=f"all local ({local_tps:.2f})")
                axes[0].set_ylim(top=max(axes[0].get_ylim()[1], local_tps * 1.5))
            axes[0].legend(fontsize=8, loc="upper right")
            axes[0].set_title("decode-shaped workload: tokens/s (log)")
        kcfgs = [c for c in SWAP_CFGS if c in results["kv"] and c != "local"]
        if kcfgs:
            xs = range(len(kcfgs))
            ops = [results["kv"][c]["ops_per_s"] for c in kcfgs]
            axes[1].bar(xs, ops, color=[COLORS[c] for c in kcfgs])
            axes[1].set_xticks(list(xs))
            axes[1].set_xticklabels([LABEL[c] for c in kcfgs], fontsize=8)
            axes[1].set_ylabel("ops/s (bars, log)")
            log_axis(axes[1], ops)
            # One dot per device: the devices are categories, so no line joins them.
            ax2 = axes[1].twinx()
            p99 = [results["kv"][c]["p99_us"] for c in kcfgs]
            ax2.plot(list(xs), p99, "ko", ls="none", label="p99 latency")
            ax2.set_ylabel("p99 latency, us (dots, log)")
            log_axis(ax2, p99)
            axes[1].set_title("key-value, data 2x RAM limit" +
                              (f" (all local: {local_kv:,.0f} ops/s)" if local_kv else ""))
            axes[1].grid(axis="y", alpha=0.3)
        fig.suptitle("swap workloads in a memory cgroup " + title_tail, fontsize=9)
        fig.tight_layout()
        fig.savefig(f"{out}/swap.png", dpi=110)
        plt.close(fig)

    vl = vs_link(results)
    if vl:
        fig, ax = plt.subplots(figsize=(9, 4.5))
        labels = [f"MTU {mtu}\n{job}" for mtu, job, *_ in vl]
        xs = range(len(vl))
        ax.bar([x - 0.2 for x in xs], [r[3] for r in vl], 0.4, label="the link (ops/s: rawpp; MB/s: pktgen)", color="#bbbbbb")
        ax.bar([x + 0.2 for x in xs], [r[2] for r in vl], 0.4, label="omx (fio)", color=COLORS["omx-1500"])
        ax.set_xticks(list(xs))
        ax.set_xticklabels(labels, fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel("ops/s or MB/s (log)")
        ax.legend(fontsize=8, loc="upper right")
        ax.grid(axis="y", alpha=0.3)
        ax.set_title("omx against the link " + title_tail, fontsize=9)
        fig.tight_layout()
        fig.savefig(f"{out}/link.png", dpi=110)
        plt.close(fig)
    print(f"bench: results in {out}: results.csv, results.json, summary.md, *.png")
