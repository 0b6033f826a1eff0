#!/usr/bin/env python3
"""Pages per CPU-second of two `riptide-worker` builds, measured side by side.

On these shared, noisy machines a single timing says little: this runs the two builds in
interleaved pairs (alternating which goes first), each process extracting the pages
`--repeat` times, and reports each build's best and median pages per CPU-second (process
user + system time, start-up included) and the median of the per-pair speed ratios, the
figure to quote.

  ops/cpu-compare.py OLD_BINARY NEW_BINARY [--engine native|wasm] [--pairs 24] [--repeat 3] PAGES...
"""

import argparse
import os
import statistics
import subprocess


def cpu_seconds(binary, engine, pages):
    process = subprocess.Popen(
        [binary, "extract", "--engine", engine, "--url", "https://example.com/", *pages],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{binary} exited with status {status}")
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--engine", default="native", choices=["native", "wasm"])
    parser.add_argument("--pairs", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pages = args.pages * args.repeat
    rates = {"old": [], "new": []}
    ratios = []
    for pair in range(args.pairs):
        order = ["old", "new"] if pair % 2 else ["new", "old"]
        seconds = {name: cpu_seconds(getattr(args, name), args.engine, pages) for name in order}
        for name, spent in seconds.items():
            rates[name].append(len(pages) / spent)
        ratios.append(seconds["old"] / seconds["new"])
    for name in ("old", "new"):
        print(f"{name}: best {max(rates[name]):.1f}, median {statistics.median(rates[name]):.1f} pages per CPU-second")
    quartiles = statistics.quantiles(ratios, n=4)
    print(
        f"new/old speed, median of {args.pairs} pairs: {statistics.median(ratios):.3f} "
        f"(quartiles {quartiles[0]:.3f} .. {quartiles[2]:.3f})"
    )


if __name__ == "__main__":
    main()
