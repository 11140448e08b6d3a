#!/usr/bin/env python3
"""Turns `go test -bench` output into the Markdown table of the README's
Benchmarks section: one row per benchmark with its figures, and each
figure that has a minimum (or a naive baseline) reported beside it as a
ratio, so the table reads the same on a fast or a slow machine.
bench-table.py BENCH_OUTPUT > TABLE.md"""
import re
import sys

# figure -> (its minimum or baseline, what the ratio is against)
RATIOS = {
    "graph-req/op": [("graph-min/op", "minimum"), ("graph-req-full/op", "no-delta baseline")],
    "table-tx/op": [("table-tx-min/op", "minimum"), ("table-tx-full/op", "no-delta baseline")],
    "posts/op": [("min-posts/op", "minimum")],
    "transactions/op": [("min-transactions/op", "minimum")],
    "transactions": [("min-transactions", "minimum")],
    "entities-read/op": [("open-requests/op", "open requests")],
}
LINE = re.compile(r"^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$")


def fmt(v):
    return f"{v:,.0f}" if v >= 100 or v == int(v) else f"{v:.3g}"


def main(path):
    meta, rows, pkg = {}, [], ""
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            for key in ("goos", "goarch", "cpu"):
                if line.startswith(key + ":"):
                    meta[key] = line.split(":", 1)[1].strip()
            if line.startswith("pkg:"):
                pkg = line.split(":", 1)[1].strip().split("/", 3)[-1]
            m = LINE.match(line)
            if not m:
                continue
            name, figures = m.group(1), {}
            parts = m.group(3).split()
            for value, unit in zip(parts[0::2], parts[1::2]):
                try:
                    figures[unit] = float(value)
                except ValueError:
                    pass
            rows.append((pkg, name, figures))
    if not rows:
        sys.exit(f"bench-table: no benchmark lines in {path}")
    print(f"Machine: {meta.get('cpu', '?')}, {meta.get('goos', '?')}/{meta.get('goarch', '?')}.\n")
    print("| Package | Benchmark | Figures | Ratio to minimum / baseline |")
    print("|---|---|---|---|")
    for pkg, name, figures in rows:
        shown = ", ".join(f"{fmt(v)} {u}" for u, v in figures.items())
        ratios = []
        for fig, against in RATIOS.items():
            for other, label in against:
                if fig in figures and figures.get(other):
                    r = figures[fig] / figures[other]
                    text = f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}× ({1 / r:.0f}× fewer)" if r else "0×"
                    ratios.append(f"{fig} {text} {label}")
        print(f"| {pkg} | {name} | {shown} | {'; '.join(ratios) or '—'} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
