#!/usr/bin/env python3
"""Medians and ratios of an end-to-end bench (bench/lib.sh's bench_summary).

Usage: summary.py RESULTS MODE=LABEL...
RESULTS has one "MODE HANDSHAKES/S MB/S" row per run, every mode once a round (in any order
within the round); the first MODE given is the baseline ("off").
"""
import os
import statistics
import sys

path, modes = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
rows = [line.split() for line in open(path) if line.strip()]
n = len(modes)
base_mode = modes[0][0]
# Per-round ratios pair each run with the baseline run of its own round, which cancels the slow
# drifts of a shared machine.
rounds = [rows[i:i + n] for i in range(0, len(rows) - n + 1, n)]


def per_round(m, col):
    out = []
    for r in rounds:
        d = {x[0]: float(x[col]) for x in r}
        if d.get(base_mode) and m in d:
            out.append(d[m] / d[base_mode])
    return out


def med(xs):
    return statistics.median(xs) if xs else 0


width = max(26, max(len(label) for _, label in modes))
print("%-*s %18s %18s %10s %10s %10s %10s" % (width, "median (min-max)", "handshakes/s",
                                               "bulk MB/s", "hs ratio", "(paired)", "bulk ratio",
                                               "(paired)"))
base = {}
heads = []
for m, label in modes:
    hs = [float(r[1]) for r in rows if r[0] == m]
    mb = [float(r[2]) for r in rows if r[0] == m]
    if not hs:
        continue
    h, b = med(hs), med(mb)
    base.setdefault("h", h)
    base.setdefault("b", b)
    print("%-*s %18s %18s %10.3f %10.3f %10.3f %10.3f" % (
        width, label, "%.0f (%.0f-%.0f)" % (h, min(hs), max(hs)),
        "%.0f (%.0f-%.0f)" % (b, min(mb), max(mb)),
        h / base["h"] if base["h"] else 0, med(per_round(m, 1)),
        b / base["b"] if base["b"] else 0, med(per_round(m, 2))))
    if m != base_mode:
        heads.append("%s hs %.2f bulk %.2f" % (m, med(per_round(m, 1)), med(per_round(m, 2))))
print("ratio: median with the tracer / median without; (paired): median over rounds of the run's")
print("figure / the same round's off figure. Goal >= 0.99; the spread of the off runs is the noise.")
summary = os.environ.get("BENCH_SUMMARY")
if summary and heads:
    # One line of make bench's closing table (bench/lib.sh's bench_headline).
    with open(summary, "a") as f:
        f.write("%-16s paired ratios to no tracer: %s\n" % (os.environ.get("BENCH", "?"),
                                                          ", ".join(heads)))
