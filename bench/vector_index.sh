#!/usr/bin/env bash
# The kernel's vector index on vectors of 384 dimensions, at 10 000 and 100 000, random (no
# structure) and clustered around 1 000 centres (topics): exact search and the HNSW graph (bench/vector_index_bench.cpp): the time to fill it in the worker's
# batches of 64 (with the graph's build), the time per nearest() of 400 neighbours (200 queries),
# the graph's recall@10 against exact search, the graph's points no search reaches (compared one
# by one beside each search), and peak memory (/usr/bin/time -v, beside the raw vectors both runs
# hold). Prints a Markdown table. BENCH_VECTOR_BIN runs another build of the program (an A/B).
#   bench/vector_index.sh
# Run it on an otherwise idle machine, never while a build runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
bench_setup
work=$(mktemp -d /tmp/ctxmgr-vectors.XXXXXX)
trap bench_cleanup EXIT
bin=${BENCH_VECTOR_BIN:-$(find build/release -name vector_index_bench -type f -executable | head -n 1)}
echo "| data | vectors | search | fill s | nearest(400) ms | recall@10 | unreachable | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|"
for data in ${BENCH_DATA:-clustered random}; do
for n in ${BENCH_SIZES:-10000 100000}; do
  for mode in exact hnsw; do
    threshold=0; [[ $mode == hnsw ]] && threshold=1
    line=$(/usr/bin/time -v "$bin" "$n" 384 "$threshold" 200 "$data" 2>"$work/time" | grep '^RESULT')
    rss=$(awk '/Maximum resident set size/ {print int($NF / 1024)}' "$work/time")
    awk -v n="$n" -v m="$mode" -v rss="$rss" -v line="$line" 'BEGIN {
      split(line, f, " "); for (i in f) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
      printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", v["data"], n, m, v["fill_s"], v["search_ms"], v["recall10"], v["unreachable"], rss }'
  done
done
done
