#!/usr/bin/env bash
# Create, read and patch on SQLite through transport-http with wrk at 1, 8 and 32 connections,
# beside the same wrk runs against ceiling_server (a minimal Beast server with a fixed body) in
# the same run; idle and peak RSS of the server. Prints a Markdown table.
#   bench/run.sh [seconds per run, default 10]
# BENCH_SYNC=normal runs SQLite with synchronous=normal instead of the default full.
# Run it on an otherwise idle machine, never while a build runs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
scripts/install-deps.sh --with-bench
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
bin=build/release/bin
export BENCH_DIR=$PWD/bench

work=$(mktemp -d /tmp/ctxmgr-bench.XXXXXX)
cleanup() { [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
free_port() { for p in $(shuf -i 20000-60000 -n 50); do (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null || { echo "$p"; return; }; done; }
rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' /proc/"$1"/status; }
wait_http() { for _ in $(seq 200); do curl -sf "http://127.0.0.1:$1$2" >/dev/null && return 0; sleep 0.05; done; return 1; }

port=$(free_port)
cat >"$work/ctxmgr.yaml" <<YAML
server: {log: {level: warn}}
storage: {plugin: sqlite, options: {path: $work/context.db, synchronous: ${BENCH_SYNC:-full}}}
transports: [{plugin: http, options: {listen: "127.0.0.1:$port"}}]
YAML
"$bin/ctxmgr" --config "$work/ctxmgr.yaml" serve 2>"$work/server.log" &
pid=$!
wait_http "$port" /healthz
sleep 1
idle=$(rss_kib "$pid" VmRSS)

# 200 contexts for the read and patch runs.
for i in $(seq 200); do
  curl -s -X POST "http://127.0.0.1:$port/api/context" -H 'Content-Type: application/json' \
    -d "{\"agent_id\":\"bench\",\"context_data\":{\"i\":$i,\"información\":\"valor\"}}" |
    sed -E 's/^\{"id":"([^"]+)".*/\1/'
  echo  # curl prints no newline after the body
done >"$work/ids"
[[ $(grep -c . "$work/ids") -eq 200 ]] || { echo "could not create the contexts" >&2; exit 1; }
export BENCH_IDS=$work/ids

run_wrk() { # script url conns
  local threads=2; [[ $3 -lt 2 ]] && threads=1
  wrk -t"$threads" -c"$3" -d"${secs}s" -s "bench/$1.lua" "$2" | grep '^RESULT'
}
declare -A result
for conns in 1 8 32; do
  result[create,$conns]=$(run_wrk create "http://127.0.0.1:$port/api/context" "$conns")
  result[read,$conns]=$(run_wrk read "http://127.0.0.1:$port" "$conns")
  result[patch,$conns]=$(run_wrk patch "http://127.0.0.1:$port" "$conns")
done
peak=$(rss_kib "$pid" VmHWM)
kill -TERM "$pid"; wait "$pid" || true; pid=""

cport=$(free_port)
"$bin/ceiling_server" "$cport" 2 &
pid=$!
wait_http "$cport" /
for conns in 1 8 32; do
  result[ceiling,$conns]=$(run_wrk ceiling "http://127.0.0.1:$cport/" "$conns")
done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

field() { sed -E "s/.*$2=([0-9.]+).*/\1/" <<<"$1"; }
echo "| operation | conns | req/s | p50 ms | p99 ms | errors | ratio to ceiling |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for op in ceiling create read patch; do
  for conns in 1 8 32; do
    r=${result[$op,$conns]}
    c=${result[ceiling,$conns]}
    rps=$(field "$r" rps); crps=$(field "$c" rps)
    awk -v op="$op" -v n="$conns" -v rps="$rps" -v p50="$(field "$r" p50_us)" \
      -v p99="$(field "$r" p99_us)" -v err="$(field "$r" errors)" -v crps="$crps" \
      'BEGIN { printf "| %s | %d | %.0f | %.2f | %.2f | %d | %.2f |\n", op, n, rps, p50/1000, p99/1000, err, rps/crps }'
  done
done
echo
echo "server RSS: idle $((idle / 1024)) MiB ($idle KiB), peak $((peak / 1024)) MiB ($peak KiB)"
echo "SQLite synchronous=${BENCH_SYNC:-full}"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); wrk and the server share them; ${secs}s per run"
