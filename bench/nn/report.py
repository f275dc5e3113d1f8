#!/usr/bin/env python3
"""Turns nn_bench JSON output into the markdown table of docs/benchmarks-nn.md.

  build-nn/bench/nn/nn_bench --benchmark_repetitions=7 --benchmark_enable_random_interleaving=true \
      --benchmark_min_time=0.2 --benchmark_format=json > /tmp/nn_bench.json
  python3 bench/nn/report.py /tmp/nn_bench.json

Uses the median CPU time of each benchmark over the repetitions; ratios are Keel / hand-written
from the same run (the machine is shared, so only same-run ratios are comparable).
"""
import json
import sys

ARCH = {"0": "8→64→64→4 tanh", "1": "24→256→256→4 relu"}


def main(path):
    data = json.load(open(path))
    med = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            med[b["run_name"]] = (b["cpu_time"], b["time_unit"])
    print("| network | batch | hand-written | keel::nn | ratio |")
    print("|---|---|---|---|---|")
    for arch in ("0", "1"):
        for batch in ("64", "256", "4096"):
            h, unit = med[f"BM_HandStep/arch:{arch}/batch:{batch}"]
            k, _ = med[f"BM_KeelStep/arch:{arch}/batch:{batch}"]
            print(f"| {ARCH[arch]} step | {batch} | {h:.1f} {unit} | {k:.1f} {unit} | {k / h:.2f}× |")
    for arch in ("0", "1"):
        h, unit = med[f"BM_HandInfer/arch:{arch}"]
        k, _ = med[f"BM_KeelInfer/arch:{arch}"]
        print(f"| {ARCH[arch]} inference | 1 | {h:.0f} {unit} | {k:.0f} {unit} | {k / h:.2f}× |")
    ctx = data["context"]
    print(f"\n{ctx.get('date')} · {ctx.get('num_cpus')} CPUs · {ctx.get('mhz_per_cpu')} MHz · "
          f"load average {ctx.get('load_avg')}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/dev/stdin")
