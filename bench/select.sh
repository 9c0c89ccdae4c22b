#!/usr/bin/env bash
# Selection latency: POST /api/agent/{id}/select (hybrid, limit 10, 1-3 query words drawn like the
# contexts' words) with wrk at 1 and 8 connections, over 10 000 and 100 000 contexts of one agent
# (its whole view: the worst case), on SQLite or PostgreSQL. Prints a Markdown table.
#   bench/select.sh [seconds per run, default 15]
# BENCH_BACKEND=postgres uses a throwaway PostgreSQL (scripts/pg-temp.sh) instead of SQLite.
# BENCH_SIZES overrides the sizes (default "10000 100000").
# BENCH_FEEDBACK=0 turns pseudo-relevance feedback off (selection.feedback.enabled: false).
# BENCH_SEMANTIC=1 adds an embedder (bench/fake_embedder.mjs, 384 dimensions, on loopback): the
# table then has the time to embed every context after the load and hybrid's latency with its
# semantic component (the query embedded, exact cosine over every vector, neighbours in view).
# Run it on an otherwise idle machine, never while a build runs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
source bench/common.sh
bench_setup
bin=build/release/bin
backend=${BENCH_BACKEND:-sqlite}
work=$(mktemp -d /tmp/ctxmgr-select.XXXXXX)
trap bench_cleanup EXIT
[[ $backend == postgres ]] && bench_pg_start
export BENCH_VOCAB=$work/vocab.txt

semantic=${BENCH_SEMANTIC:-0}
embedder_yaml=
if [[ $semantic == 1 ]]; then
  eport=$(free_port)
  node bench/fake_embedder.mjs "$eport" 384 &
  epid=$!
  trap 'kill $epid 2>/dev/null; bench_cleanup' EXIT
  embedder_yaml="embedder: {plugin: openai, options: {base_url: 'http://127.0.0.1:$eport/v1', model: fake-384, batch_size: 64}}
embeddings: {batch_size: 64}"
fi

echo "| backend | contexts | semantic | connections | selections/s | p50 ms | p99 ms | errors | load s | embed s |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for size in ${BENCH_SIZES:-10000 100000}; do
  port=$(free_port)
  if [[ $backend == postgres ]]; then
    storage="{plugin: postgres, options: {url: '$CTXMGR_TEST_PG_DSN', schema: s$size, pool_size: 16}}"
  else
    storage="{plugin: sqlite, options: {path: $work/context-$size.db, synchronous: normal}}"
  fi
  cat >"$work/ctxmgr.yaml" <<YAML
server: {log: {level: warn}}
selectors: [{plugin: keyword}, {plugin: priority}, {plugin: recency}]
storage: $storage
transports: [{plugin: http, options: {listen: "127.0.0.1:$port"}}]
selection: {feedback: {enabled: $([[ ${BENCH_FEEDBACK:-1} == 0 ]] && echo false || echo true)}}
$embedder_yaml
YAML
  "$bin/ctxmgr" --config "$work/ctxmgr.yaml" serve 2>"$work/server.log" &
  pid=$!
  wait_http "$port" /healthz
  start=$(date +%s)
  python3 bench/select_load.py "$port" "$size" "$BENCH_VOCAB"
  load=$(($(date +%s) - start))
  embed=-
  if [[ $semantic == 1 ]]; then
    # Until the worker has a vector for every context (the backlog gauge is set after each pass).
    until curl -s "http://127.0.0.1:$port/metrics" | grep -q "^ctxmgr_embedded_total $size\b"; do
      sleep 1
    done
    embed=$(($(date +%s) - start - load))
  fi
  # Steady state: autovacuum would have analysed the table a minute after the load; BM25's idf
  # reads ANALYZE's lexeme statistics (without them, a count per query word: docs/selection.md).
  # The postings (10_search_postings.sql) are read by index-only scans, which need the visibility
  # map that (auto)vacuum sets: a table just loaded in bulk would fetch every posting's row.
  if [[ $backend == postgres ]]; then
    psql -q "$CTXMGR_TEST_PG_DSN" -c "ANALYZE s$size.context" -c "VACUUM ANALYZE s$size.context_postings"
  fi
  for conns in 1 8; do
    threads=2; [[ $conns -lt 2 ]] && threads=1
    line=$(wrk -t"$threads" -c"$conns" -d"${secs}s" -s bench/select.lua "http://127.0.0.1:$port" |
           grep '^RESULT')
    rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$line")
    p50=$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$line")
    p99=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$line")
    errors=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$line")
    awk -v b="$backend" -v s="$size" -v c="$conns" -v r="$rps" -v p50="$p50" -v p99="$p99" \
      -v e="$errors" -v l="$load" -v m="$semantic" -v x="$embed" \
      'BEGIN { printf "| %s | %s | %s | %s | %s | %.2f | %.2f | %s | %s | %s |\n", b, s, (m == 1 ? "on" : "off"), c, r, p50/1000, p99/1000, e, l, x }'
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
