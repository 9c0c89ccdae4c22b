#!/usr/bin/env bash
# The cost of auditing reads: GET /api/context/{id} with wrk at 8 connections on SQLite, with
# audit.reads off, batch and sync, in one run. Prints a Markdown table.
#   bench/audit_reads.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
source bench/common.sh
bench_setup
work=$(mktemp -d /tmp/ctxmgr-bench.XXXXXX)
trap bench_cleanup EXIT

echo "| audit.reads | req/s | p50 ms | p99 ms | errors | relative to off |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
base=""
for mode in off batch sync; do
  port=$(free_port)
  rm -f "$work"/context.db*
  cat >"$work/ctxmgr.yaml" <<YAML
server: {log: {level: warn}}
audit: {reads: $mode}
storage: {plugin: sqlite, options: {path: $work/context.db}}
transports: [{plugin: http, options: {listen: "127.0.0.1:$port"}}]
YAML
  build/release/bin/ctxmgr --config "$work/ctxmgr.yaml" serve 2>"$work/server.log" &
  pid=$!
  wait_http "$port" /healthz
  create_contexts "$port" "$work/ids"
  r=$(BENCH_IDS=$work/ids wrk -t2 -c8 -d"${secs}s" -s bench/read.lua "http://127.0.0.1:$port" | grep '^RESULT')
  kill -TERM "$pid"; wait "$pid" || true; pid=""
  rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$r")
  [[ -z "$base" ]] && base=$rps
  awk -v m="$mode" -v rps="$rps" -v p50="$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$r")" \
    -v p99="$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$r")" -v err="$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$r")" \
    -v base="$base" 'BEGIN { printf "| %s | %.0f | %.2f | %.2f | %d | %.2f |\n", m, rps, p50/1000, p99/1000, err, rps/base }'
done
echo
echo "SQLite synchronous=full; 8 connections; ${secs}s per mode; $(nproc) cores shared by wrk and the server"
