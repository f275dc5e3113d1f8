#!/bin/bash
# Alternates Google Benchmark binaries (e.g. an old and a new build of the same benchmark) so that
# both see the same machine load, and prints each benchmark's median steps/s per binary.
#
#   bench/ab.sh FILTER ROUNDS BINARY...
#   bench/ab.sh 'BM_SingleEnv|BM_VectorEnv' 3 /tmp/old/envs_box2d_bench build/bench/bench/envs_box2d/envs_box2d_bench
#
# Each round runs every binary once (--benchmark_min_time=0.5); the benchmarks must report a
# steps_per_s counter.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 FILTER ROUNDS BINARY..." >&2
  exit 2
fi
filter=$1
rounds=$2
shift 2
for _ in $(seq "$rounds"); do
  for b in "$@"; do
    "$b" --benchmark_filter="$filter" --benchmark_min_time=0.5 2>/dev/null | grep BM_ |
      awk -v b="$b" '{for (i = 1; i <= NF; i++) if ($i ~ /^steps_per_s=/) {
        v = $i; sub("steps_per_s=", "", v); sub("k/s", "", v); print b, $1, v}}'
  done
done | python3 -c '
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in sys.stdin:
    binary, name, value = line.split()
    runs[(name, binary)].append(float(value))
for (name, binary), v in sorted(runs.items()):
    print(f"{name} {binary} median {statistics.median(v):.1f} k/s of {len(v)} (min {min(v):.1f}, max {max(v):.1f})")
'
