#!/usr/bin/python3
"""Summary of a `make bench` run (scripts/bench.sh): reads the run directory the VMs wrote,
prints one table per part with every figure also as a ratio to all-local and to the disk,
checks issue #17's bars, and writes results.csv, results.json, summary.md and PNG plots.
The parts live in report/: load.py, bars.py, tables.py, plots.py.

usage: report.py RUN_DIR OUT_DIR
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report.bars import bars  # noqa: E402
from report.load import load_run  # noqa: E402
from report.tables import summary, write_data  # noqa: E402

RUN, OUT = sys.argv[1], sys.argv[2]
os.makedirs(OUT, exist_ok=True)
results, rows = load_run(RUN)
results["bars"] = bars(results)
write_data(results, rows, OUT)
print(summary(results, results["bars"], OUT))
from report.plots import plots  # noqa: E402  (matplotlib last: the tables need none of it)

plots(results, OUT)
