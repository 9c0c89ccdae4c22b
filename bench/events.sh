#!/usr/bin/env bash
# The change feed under write load: wrk creates contexts at 8 connections (bench/create.lua) for
# SECS seconds, alone, then with 1 and with 100 clients of GET /api/events (bench/sse_clients.mjs)
# streaming every change. Reports the writers' req/s in each run (and its ratio to the run with
# no stream), and the events the clients received: in all, per second, and per client against
# the creates made (1.00: every client got every change), and the CPU seconds the server and the
# clients used (all share the machine's cores: on 2 cores the clients' parsing takes CPU from the
# writers). Prints a Markdown table.
#   bench/events.sh [seconds per run, default 10]
# BENCH_BACKEND=postgres uses a throwaway PostgreSQL (scripts/pg-temp.sh) instead of SQLite.
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
if [[ $backend == postgres ]]; then
  bench_pg_start
  storage="{plugin: postgres, options: {url: '$CTXMGR_TEST_PG_DSN', pool_size: 32, schema: bench}}"
else
  storage="{plugin: sqlite, options: {path: $work/context.db}}"
fi

# One server per run, on a fresh store: each run starts from the same state.
start_server() {
  port=$(free_port)
  rm -f "$work"/context.db*
  [[ $backend == postgres ]] && psql -q "$CTXMGR_TEST_PG_DSN" -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS bench CASCADE"
  cat >"$work/ctxmgr.yaml" <<YAML
server: {log: {level: warn}}
audit: {reads: batch}
events: {max_streams_per_agent: 200}
storage: $storage
transports: [{plugin: http, options: {listen: "127.0.0.1:$port"}}]
YAML
  "$bin/ctxmgr" --config "$work/ctxmgr.yaml" serve 2>"$work/server.log" &
  pid=$!
  wait_http "$port" /healthz
}
stop_server() { kill -TERM "$pid"; wait "$pid" || true; pid=""; }
# CPU seconds (user + system) the process has used so far.
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / t}' /proc/"$1"/stat; }
field() { sed -E "s/.*$1=([0-9.]+).*/\1/" <<<"$2"; }

echo "| streams | writer req/s | ratio to no stream | events received | events/s (all clients) | per client / creates | server CPU s | clients CPU s |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
base=""
for streams in 0 1 100; do
  start_server
  if [[ $streams -gt 0 ]]; then
    /usr/bin/time -f "CPU %U %S" -o "$work/sse.time" \
      node bench/sse_clients.mjs "$port" bench "$streams" $((secs + 3)) >"$work/sse.out" &
    sse=$!
    until grep -q READY "$work/sse.out" 2>/dev/null; do sleep 0.1; done
  fi
  w=$(run_wrk create "http://127.0.0.1:$port/api/context" 8)
  rps=$(field rps "$w"); creates=$(field requests "$w")
  [[ -z $base ]] && base=$rps
  if [[ $streams -gt 0 ]]; then
    wait "$sse"
    server_cpu=$(cpu_s "$pid")
    s=$(grep RESULT "$work/sse.out")
    events=$(field events "$s"); min=$(field per_client_min "$s")
    clients_cpu=$(awk '/^CPU/ {printf "%.1f", $2 + $3}' "$work/sse.time")
    echo "| $streams | $rps | $(awk -v a="$rps" -v b="$base" 'BEGIN{printf "%.2f", a/b}') | $events | $(awk -v e="$events" -v s="$secs" 'BEGIN{printf "%.0f", e/s}') | $(awk -v m="$min" -v c="$creates" 'BEGIN{printf "%.2f", m/c}') | $server_cpu | $clients_cpu |"
  else
    echo "| 0 | $rps | 1.00 | – | – | – | $(cpu_s "$pid") | – |"
  fi
  stop_server
done
echo
echo "backend: $backend; wrk -c8 creates for ${secs}s; clients: bench/sse_clients.mjs as the owner"
echo "machine: $(nproc) cores; wrk, node and the server share them"
