#!/usr/bin/env bash
# What one create costs the server on the shipped PostgreSQL config (issue 18): creates/s at 32
# connections, and per create the server's CPU (from /proc/PID/stat) and its context switches
# (summed over its threads' /proc/PID/task/*/status), with a throwaway PostgreSQL (fsync on).
#   bench/create_cost.sh [seconds per run] [rounds]        (defaults 8, 2)
# BENCH_BINS: build folders to alternate, for an A/B ("old/build/release/bin build/release/bin";
# default build/release/bin; each with its plugins beside it). BENCH_PERF=1: perf record -g of the
# server for 4 s of each run, to $BENCH_PERF_DIR (default /tmp) as perf-<round>-<n>.data.
# Run it on an otherwise idle machine, never while a build runs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
rounds=${2:-2}
source bench/common.sh
bench_setup
work=$(mktemp -d /tmp/ctxmgr-cost.XXXXXX)
trap bench_cleanup EXIT
PG_TEMP_FSYNC=on bench_pg_start
config=config/postgres.example.yaml

cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s}'; }
ticks_per_s=$(getconf CLK_TCK)

printf '| round | build | creates/s | p50 / p99 ms | switches per create | CPU us per create |\n'
printf '| ---: | --- | ---: | ---: | ---: | ---: |\n'
for round in $(seq "$rounds"); do
  n=0
  for bin in ${BENCH_BINS:-build/release/bin}; do
    n=$((n + 1))
    port=$(free_port)
    export DATABASE_URL=$CTXMGR_TEST_PG_DSN CONTEXT_MANAGER_PORT=$port CTXMGR_DATA_DIR=$work
    export CTXMGR_PG_SCHEMA=cost_${round}_$n
    "$bin/ctxmgr" --config "$config" db init >/dev/null
    export BENCH_TOKEN
    BENCH_TOKEN=$("$bin/ctxmgr" --config "$config" agent create bench --role admin 2>/dev/null |
      head -n 1)
    "$bin/ctxmgr" --config "$config" serve 2>"$work/server.log" &
    pid=$!
    wait_http "$port" /healthz
    create_contexts "$port" "$work/ids"
    secs=3 run_wrk create "http://127.0.0.1:$port/api/context" 32 >/dev/null  # warm-up
    perf_pid=""
    if [[ -n "${BENCH_PERF:-}" ]]; then
      (sleep 2; perf record -F 1999 -g -o "${BENCH_PERF_DIR:-/tmp}/perf-$round-$n.data" -p "$pid" \
        -- sleep 4 >/dev/null 2>&1) &
      perf_pid=$!
    fi
    c0=$(cpu_ticks "$pid"); s0=$(switches "$pid")
    line=$(run_wrk create "http://127.0.0.1:$port/api/context" 32)
    c1=$(cpu_ticks "$pid"); s1=$(switches "$pid")
    [[ -z "$perf_pid" ]] || wait "$perf_pid"
    rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$line")
    req=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")
    p50=$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$line")
    p99=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$line")
    awk -v r="$round" -v b="$bin" -v rps="$rps" -v req="$req" -v p50="$p50" -v p99="$p99" \
      -v cs=$((s1 - s0)) -v cpu=$((c1 - c0)) -v hz="$ticks_per_s" 'BEGIN {
        printf "| %d | %s | %.0f | %.2f / %.2f | %.2f | %.0f |\n",
          r, b, rps, p50 / 1000, p99 / 1000, cs / req, cpu / hz * 1e6 / req }'
    kill -TERM "$pid"; wait "$pid" || true; pid=""
    unset BENCH_TOKEN CTXMGR_PG_SCHEMA
  done
done
echo "PostgreSQL (fsync on), $config as shipped; wrk -c32 POST /api/context, ${secs}s per run"
