#!/usr/bin/env bash
# Create, read and patch through transport-http with wrk at 1, 8 and 32 connections (and 64 on
# PostgreSQL), beside the same wrk runs against ceiling_server (a minimal Beast server with a
# fixed body) in the same run; idle and peak RSS of the server. On PostgreSQL also pgbench running
# the SQL transaction of a create (bench/pgbench_create.sql): the database's own ceiling.
# Prints a Markdown table.
#   bench/run.sh [seconds per run, default 10]
# BENCH_BACKEND=postgres uses a throwaway PostgreSQL (scripts/pg-temp.sh) instead of SQLite.
# BENCH_SYNC=normal runs SQLite with synchronous=normal instead of the default full.
# BENCH_HTTP_THREADS sets transport-http's threads (default 0: one per core); the ceiling server
# runs with as many. BENCH_READ_AUDIT sets audit.reads (default batch, as the shipped configs).
# BENCH_CONTEXT_CACHE_TTL_MS sets service.context_cache.ttl_ms (default 10000; 0: no cache).
# Run it on an otherwise idle machine, never while a build runs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
source bench/common.sh
bench_setup
bin=build/release/bin

work=$(mktemp -d /tmp/ctxmgr-bench.XXXXXX)
backend=${BENCH_BACKEND:-sqlite}
trap bench_cleanup EXIT

port=$(free_port)
conn_counts="1 8 32"
if [[ $backend == postgres ]]; then
  bench_pg_start
  storage="{plugin: postgres, options: {url: '$CTXMGR_TEST_PG_DSN', pool_size: 64}}"
  conn_counts="1 8 32 64"
else
  storage="{plugin: sqlite, options: {path: $work/context.db, synchronous: ${BENCH_SYNC:-full}}}"
fi
cat >"$work/ctxmgr.yaml" <<YAML
server: {log: {level: warn}}
audit: {reads: ${BENCH_READ_AUDIT:-batch}}
service: {context_cache: {ttl_ms: ${BENCH_CONTEXT_CACHE_TTL_MS:-10000}}}
storage: $storage
transports: [{plugin: http, options: {listen: "127.0.0.1:$port", threads: ${BENCH_HTTP_THREADS:-0}}}]
YAML
"$bin/ctxmgr" --config "$work/ctxmgr.yaml" serve 2>"$work/server.log" &
pid=$!
wait_http "$port" /healthz
sleep 1
idle=$(rss_kib "$pid" VmRSS)

# 200 contexts for the read and patch runs.
create_contexts "$port" "$work/ids"
export BENCH_IDS=$work/ids

declare -A result
for conns in $conn_counts; do
  result[create,$conns]=$(run_wrk create "http://127.0.0.1:$port/api/context" "$conns")
  result[read,$conns]=$(run_wrk read "http://127.0.0.1:$port" "$conns")
  result[patch,$conns]=$(run_wrk patch "http://127.0.0.1:$port" "$conns")
done
peak=$(rss_kib "$pid" VmHWM)
# After the runs, what of the resident memory is the process's own (heap, stacks) and what is the
# database file mapped in (SQLite's mmap_mib: clean page cache the kernel may drop at will).
anon=$(rss_kib "$pid" RssAnon)
file=$(rss_kib "$pid" RssFile)
kill -TERM "$pid"; wait "$pid" || true; pid=""

cport=$(free_port)
ceiling_threads=${BENCH_HTTP_THREADS:-0}
[[ $ceiling_threads -eq 0 ]] && ceiling_threads=$(nproc)
"$bin/ceiling_server" "$cport" "$ceiling_threads" &
pid=$!
wait_http "$cport" /
for conns in $conn_counts; do
  result[ceiling,$conns]=$(run_wrk ceiling "http://127.0.0.1:$cport/" "$conns")
done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

if [[ $backend == postgres ]]; then
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  for conns in $conn_counts; do
    tps=$("$pgbin/pgbench" -n -f bench/pgbench_create.sql -c "$conns" -j "$([[ $conns -lt 2 ]] && echo 1 || echo 2)" \
      -T "$secs" "$CTXMGR_TEST_PG_DSN" 2>/dev/null | sed -nE 's/^tps = ([0-9.]+).*/\1/p')
    result[pgbench,$conns]="RESULT rps=$tps p50_us=0 p99_us=0 errors=0"
  done
fi

field() { sed -E "s/.*$2=([0-9.]+).*/\1/" <<<"$1"; }
echo "| operation | conns | req/s | p50 ms | p99 ms | errors | ratio to ceiling |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
ops="ceiling create read patch"
[[ $backend == postgres ]] && ops="ceiling pgbench create read patch"
for op in $ops; do
  for conns in $conn_counts; do
    r=${result[$op,$conns]}
    c=${result[ceiling,$conns]}
    # Creates on PostgreSQL are compared with pgbench's create transaction.
    [[ $backend == postgres && ( $op == create || $op == pgbench ) ]] && c=${result[pgbench,$conns]}
    rps=$(field "$r" rps); crps=$(field "$c" rps)
    awk -v op="$op" -v n="$conns" -v rps="$rps" -v p50="$(field "$r" p50_us)" \
      -v p99="$(field "$r" p99_us)" -v err="$(field "$r" errors)" -v crps="$crps" \
      'BEGIN { printf "| %s | %d | %.0f | %.2f | %.2f | %d | %.2f |\n", op, n, rps, p50/1000, p99/1000, err, rps/crps }'
  done
done
echo
echo "server RSS: idle $((idle / 1024)) MiB ($idle KiB), peak $((peak / 1024)) MiB ($peak KiB);" \
     "after the runs $((anon / 1024)) MiB anonymous, $((file / 1024)) MiB file-backed"
if [[ $backend == postgres ]]; then
  echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') (scripts/pg-temp.sh: fsync=off), pool_size 64, HTTP threads ${BENCH_HTTP_THREADS:-0} (0: one per core); create's ratio is to pgbench"
else
  echo "SQLite synchronous=${BENCH_SYNC:-full}"
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); wrk and the server share them; ${secs}s per run"
