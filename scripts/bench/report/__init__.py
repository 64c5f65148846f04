"""The parts of scripts/bench/report.py: load (the run directory into one dict), bars (issue
#17's bars, met or not), tables (summary.md) and plots (PNG)."""
