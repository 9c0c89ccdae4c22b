#!/usr/bin/env bash
# What PostgreSQL's postings table (schemas/postgres/10_search_postings.sql) costs a write: POST
# /api/context with a 40-word note (bench/create_note.lua) at 1 and 16 connections, with the
# trigger that keeps the postings on, off, and on again, in one run on a throwaway PostgreSQL
# with fsync on. Prints a Markdown table.
#   bench/postings.sh [seconds per run]     (default 10)
# Run it on an otherwise idle machine, never while a build runs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
source bench/common.sh
bench_setup
bin=build/release/bin
work=$(mktemp -d /tmp/ctxmgr-postings.XXXXXX)
trap bench_cleanup EXIT
PG_TEMP_FSYNC=on bench_pg_start
port=$(free_port)
cat >"$work/ctxmgr.yaml" <<YAML
server: {log: {level: warn}}
storage: {plugin: postgres, options: {url: '$CTXMGR_TEST_PG_DSN', schema: postings, pool_size: 16}}
transports: [{plugin: http, options: {listen: "127.0.0.1:$port"}}]
YAML
"$bin/ctxmgr" --config "$work/ctxmgr.yaml" serve 2>"$work/server.log" &
pid=$!
wait_http "$port" /healthz
trigger() { psql -qAt "$CTXMGR_TEST_PG_DSN" -c "ALTER TABLE postings.context $1 TRIGGER context_postings"; }
echo "| postings | connections | creates/s | p50 ms | p99 ms | errors | postings rows after |"
echo "|---|---|---|---|---|---|---|"
for state in on off on; do
  [[ $state == on ]] && trigger ENABLE || trigger DISABLE
  for conns in 1 16; do
    line=$(run_wrk create_note "http://127.0.0.1:$port/api/context" "$conns")
    rows=$(psql -qAt "$CTXMGR_TEST_PG_DSN" -c "SELECT count(*) FROM postings.context_postings")
    awk -v s="$state" -v c="$conns" -v r="$rows" -v line="$line" 'BEGIN {
      match(line, /rps=[0-9.]+/); rps = substr(line, RSTART + 4, RLENGTH - 4)
      match(line, /p50_us=[0-9]+/); p50 = substr(line, RSTART + 7, RLENGTH - 7)
      match(line, /p99_us=[0-9]+/); p99 = substr(line, RSTART + 7, RLENGTH - 7)
      match(line, /errors=[0-9]+/); e = substr(line, RSTART + 7, RLENGTH - 7)
      printf "| %s | %s | %s | %.2f | %.2f | %s | %s |\n", s, c, rps, p50 / 1000, p99 / 1000, e, r }'
  done
done
