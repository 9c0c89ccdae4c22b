#!/usr/bin/env bash
# The configuration people ship for production, beside its ceilings and its peer, in one run
# (issue 18): ctxmgr with config/postgres.example.yaml as shipped (token mode, reads audited in
# batches), and again with its context cache off, on a throwaway PostgreSQL with fsync ON; pgbench
# on tables of the bench's own (a primary-key select; the row + history + access-log create
# transaction); and the original system's stack (bench/peer: Flask + psycopg2 under gunicorn -w 4,
# the seed's SQL). wrk at 1 and 32 connections, GET /api/context/{id} over 200 ids and POST
# /api/context.
#   bench/production.sh [seconds per run]     (default 10)
# Run it on an otherwise idle machine, never while a build runs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
source bench/common.sh
bench_setup
bin=build/release/bin
work=$(mktemp -d /tmp/ctxmgr-bench.XXXXXX)
trap bench_cleanup EXIT
PG_TEMP_FSYNC=on bench_pg_start
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
psql_() { "$pgbin/psql" -qAt -v ON_ERROR_STOP=1 "$CTXMGR_TEST_PG_DSN" "$@"; }
pg_version=$("$pgbin/postgres" --version | awk '{print $3}')

# GET over the ids of FILE, then POST, at 1 and 32 connections, against the server on PORT:
# result[WHO_get,conns] and result[WHO_post,conns].
measure() { # who port ids-file
  export BENCH_IDS=$3
  for conns in 1 32; do
    result[$1_get,$conns]=$(run_wrk read "http://127.0.0.1:$2" "$conns")
    result[$1_post,$conns]=$(run_wrk create "http://127.0.0.1:$2/api/context" "$conns")
  done
}
declare -A result

# --- ctxmgr, config/postgres.example.yaml as shipped, then with the context cache off ---------
# run_ctxmgr WHO CONFIG: serves CONFIG on a schema of its own and measures it as WHO.
run_ctxmgr() { # who config
  local port
  port=$(free_port)
  export DATABASE_URL=$CTXMGR_TEST_PG_DSN CONTEXT_MANAGER_PORT=$port CTXMGR_DATA_DIR=$work
  export CTXMGR_PG_SCHEMA=bench_$1_$round
  "$bin/ctxmgr" --config "$2" db init >/dev/null
  export BENCH_TOKEN
  BENCH_TOKEN=$("$bin/ctxmgr" --config "$2" agent create bench --role admin | head -n 1)
  "$bin/ctxmgr" --config "$2" serve 2>"$work/$1.log" &
  pid=$!
  wait_http "$port" /healthz
  sleep 1
  idle[$1]=$(rss_kib "$pid" VmRSS)
  create_contexts "$port" "$work/$1_ids"
  measure "$1" "$port" "$work/$1_ids"
  peak[$1]=$(rss_kib "$pid" VmHWM)
  kill -TERM "$pid"; wait "$pid" || true; pid=""
  unset BENCH_TOKEN CTXMGR_PG_SCHEMA
}
declare -A idle peak
sed 's/^service:$/service:\n  context_cache: {max_bytes: 0}/' config/postgres.example.yaml \
  >"$work/nocache.yaml"
grep -q 'context_cache: {max_bytes: 0}' "$work/nocache.yaml"
# Two rounds, each on fresh schemas: the first warms the new cluster (its caches, its first
# checkpoints and autovacuum passes) and is overwritten; the table reports the second. In a
# single round the shipped configuration, measured first, read up to a third below what the same
# build served on a warm cluster (bench/README.md, 2026-12-03).
for round in 1 2; do
  run_ctxmgr ctxmgr config/postgres.example.yaml
  run_ctxmgr ctxmgr_nocache "$work/nocache.yaml"
done

# --- the peer: Flask + psycopg2 under gunicorn -w 4 -------------------------------------------
psql_ -f bench/peer/schema.sql
psql_ -c "INSERT INTO peer.context (id, agent_id, context_data, metadata)
          SELECT CAST(md5('ctx' || n) AS uuid), 'bench', '{\"i\":1}', '{}' FROM generate_series(1, 200) n"
pport=$(free_port)
(cd bench/peer && exec gunicorn -w 4 -b "127.0.0.1:$pport" --log-level warning app:app) \
  2>"$work/peer.log" &
pid=$!
wait_http "$pport" /healthz
create_contexts "$pport" "$work/peer_ids"
measure peer "$pport" "$work/peer_ids"
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""

# --- pgbench on the peer's tables: the database's own ceilings --------------------------------
for conns in 1 32; do
  jobs=1; [[ $conns -ge 2 ]] && jobs=2
  for kind in pk_select peer_create; do
    tps=$("$pgbin/pgbench" -n -f "bench/pgbench_$kind.sql" -c "$conns" -j "$jobs" -T "$secs" \
      "$CTXMGR_TEST_PG_DSN" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    result[pgbench_$kind,$conns]="RESULT rps=$tps p50_us=0 p99_us=0 errors=0"
  done
done

# --- the table --------------------------------------------------------------------------------
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
echo
echo "| setup | conns | GET req/s | GET p50 / p99 ms | POST req/s | POST p50 / p99 ms | errors |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for who in ctxmgr ctxmgr_nocache peer; do
  for conns in 1 32; do
    g=${result[${who}_get,$conns]}; p=${result[${who}_post,$conns]}
    echo "| $who | $conns | $(field rps "$g") | $(ms "$(field p50_us "$g")") / $(ms "$(field p99_us "$g")") |" \
         "$(field rps "$p") | $(ms "$(field p50_us "$p")") / $(ms "$(field p99_us "$p")") |" \
         "$(( $(field errors "$g") + $(field errors "$p") )) |"
  done
done
for conns in 1 32; do
  echo "| pgbench (PK select / create transaction) | $conns | $(field rps "${result[pgbench_pk_select,$conns]}") | | $(field rps "${result[pgbench_peer_create,$conns]}") | | |"
done
echo
for conns in 1 32; do
  cg=$(field rps "${result[ctxmgr_get,$conns]}"); cp=$(field rps "${result[ctxmgr_post,$conns]}")
  echo "c=$conns: ctxmgr GET = $(ratio "$cg" "$(field rps "${result[pgbench_pk_select,$conns]}")") x pgbench PK select," \
       "$(ratio "$cg" "$(field rps "${result[peer_get,$conns]}")") x the peer;" \
       "POST = $(ratio "$cp" "$(field rps "${result[pgbench_peer_create,$conns]}")") x pgbench create," \
       "$(ratio "$cp" "$(field rps "${result[peer_post,$conns]}")") x the peer"
done
for conns in 1 32; do
  echo "c=$conns: context cache on / off: GET $(ratio "$(field rps "${result[ctxmgr_get,$conns]}")" "$(field rps "${result[ctxmgr_nocache_get,$conns]}")")," \
       "POST $(ratio "$(field rps "${result[ctxmgr_post,$conns]}")" "$(field rps "${result[ctxmgr_nocache_post,$conns]}")")"
done
for who in ctxmgr ctxmgr_nocache; do
  echo "$who RSS: idle $((idle[$who] / 1024)) MiB (${idle[$who]} KiB), peak $((peak[$who] / 1024)) MiB (${peak[$who]} KiB)"
done
echo "PostgreSQL $pg_version (fsync on), config/postgres.example.yaml as shipped (token mode, audit.reads batch, pool 16, four I/O loops per core, prepared statements, context cache on)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; wrk, servers and PostgreSQL share them; ${secs}s per run"
