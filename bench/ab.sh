#!/bin/bash
# Alternates Google Benchmark binaries (e.g. an old and a new build of the same benchmark) so that
# both see the same machine load, and prints each benchmark's median steps/s per binary.
#
#   bench/ab.sh FILTER ROUNDS BINARY...
#   bench/ab.sh 'BM_SingleEnv|BM_VectorEnv' 3 /tmp/old/envs_box2d_bench build/bench/bench/envs_box2d/envs_box2d_bench
#
# Each round runs every binary once (--benchmark_min_time=0.5); the benchmarks must report a
# steps_per_s counter. With two or more binaries it also prints, per benchmark, the median over
# rounds of each binary's rate divided by the first binary's in the same round: the two runs of a
# round are seconds apart, so that ratio is steadier than the ratio of the medians on a noisy
# machine.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 FILTER ROUNDS BINARY..." >&2
  exit 2
fi
filter=$1
rounds=$2
shift 2
for round in $(seq "$rounds"); do
  for b in "$@"; do
    "$b" --benchmark_filter="$filter" --benchmark_min_time=0.5 2>/dev/null | grep BM_ |
      awk -v b="$b" -v r="$round" '{for (i = 1; i <= NF; i++) if ($i ~ /^steps_per_s=/) {
        v = $i; sub("steps_per_s=", "", v); sub("/s", "", v); print r, b, $1, v}}'
  done
done | python3 -c '
import collections, statistics, sys
scale = {"": 1e-3, "k": 1.0, "M": 1e3, "G": 1e6}  # Google Benchmark counter suffixes, to k/s
runs = collections.defaultdict(list)
by_round = collections.defaultdict(dict)
binaries = []
for line in sys.stdin:
    rnd, binary, name, value = line.split()
    number = value.rstrip("kMG")
    rate = float(number) * scale[value[len(number):]]
    runs[(name, binary)].append(rate)
    by_round[(name, rnd)][binary] = rate
    if binary not in binaries:
        binaries.append(binary)
for (name, binary), v in sorted(runs.items()):
    print(f"{name} {binary} median {statistics.median(v):.1f} k/s of {len(v)} (min {min(v):.1f}, max {max(v):.1f})")
for name in sorted({n for n, _ in runs}):
    for binary in binaries[1:]:
        ratios = [r[binary] / r[binaries[0]] for (n, _), r in by_round.items()
                  if n == name and binary in r and binaries[0] in r]
        if ratios:
            print(f"{name} {binary} / {binaries[0]}: median per-round ratio {statistics.median(ratios):.3f} "
                  f"of {len(ratios)} (min {min(ratios):.3f}, max {max(ratios):.3f})")
'
