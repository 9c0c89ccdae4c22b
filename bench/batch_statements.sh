#!/usr/bin/env bash
# What the shape of a group commit's SQL costs PostgreSQL (docs/storage-postgres.md: Round
# trips): pgbench committing 16 creates per transaction on ctxmgr's own schema (the generated
# search vector, the postings trigger, the history foreign key), written two ways —
#   per_create: each create's row, history row and audit event, one statement each, after a
#               savepoint of its own (how a batch was sent before the rows were held);
#   per_batch:  the 16 rows of each table in one INSERT (how storage-postgres sends a batch now).
# Alternating rounds on a throwaway PostgreSQL with fsync on; prints creates/s per round.
#   bench/batch_statements.sh [seconds per run] [rounds]     (default 8, 3)
# Run it on an otherwise idle machine, never while a build runs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
rounds=${2:-3}
n=16
source bench/common.sh
bench_setup
bin=build/release/bin
work=$(mktemp -d /tmp/ctxmgr-batch.XXXXXX)
trap bench_cleanup EXIT
PG_TEMP_FSYNC=on bench_pg_start
cat >"$work/ctxmgr.yaml" <<YAML
server: {log: {level: warn}}
storage: {plugin: postgres, options: {url: '$CTXMGR_TEST_PG_DSN', schema: bench}}
YAML
"$bin/ctxmgr" --config "$work/ctxmgr.yaml" db init >/dev/null

data="'{\"información\":\"valor\",\"n\":1}', '{\"priority\":\"high\"}'"
{
  echo "BEGIN;"
  for i in $(seq "$n"); do
    echo "\\set k$i random(1, 9000000000000000000)"
    [[ $i -gt 1 ]] && echo "RELEASE SAVEPOINT m;"
    echo "SAVEPOINT m;"
    echo "INSERT INTO bench.context (id, agent_id, context_data, metadata, version, created_at, updated_at, created_by, updated_by, deleted) VALUES (CAST(md5(CAST(:k$i AS TEXT)) AS uuid), 'bench', $data, 1, now(), now(), 'admin', 'admin', false);"
    echo "INSERT INTO bench.context_history (context_id, version, action, agent_id, at, context_data, metadata) VALUES (CAST(md5(CAST(:k$i AS TEXT)) AS uuid), 1, 'create', 'admin', now(), $data);"
    echo "INSERT INTO bench.access_log (at, agent_id, action, context_id, transport, request_id, details) VALUES (now(), 'admin', 'create', CAST(md5(CAST(:k$i AS TEXT)) AS uuid), 'http', 'bench', '{}') RETURNING seq;"
  done
  echo "COMMIT;"
} >"$work/per_create.sql"
{
  echo "\\set k random(1, 9000000000000000000)"
  echo "BEGIN;"
  ids="FROM generate_series(1, $n) g"
  id="CAST(md5(:k || '-' || g) AS uuid)"
  echo "INSERT INTO bench.context (id, agent_id, context_data, metadata, version, created_at, updated_at, created_by, updated_by, deleted) SELECT $id, 'bench', $data, 1, now(), now(), 'admin', 'admin', false $ids;"
  echo "INSERT INTO bench.context_history (context_id, version, action, agent_id, at, context_data, metadata) SELECT $id, 1, 'create', 'admin', now(), $data $ids;"
  echo "INSERT INTO bench.access_log (at, agent_id, action, context_id, transport, request_id, details) SELECT now(), 'admin', 'create', $id, 'http', 'bench', '{}' $ids RETURNING seq;"
  echo "COMMIT;"
} >"$work/per_batch.sql"

echo "| round | per_create creates/s | per_batch creates/s | ratio |"
echo "| ---: | ---: | ---: | ---: |"
for round in $(seq "$rounds"); do
  declare -A rate
  for shape in per_create per_batch; do
    tps=$(pgbench -n -M prepared -c 2 -j 1 -T "$secs" -f "$work/$shape.sql" "$CTXMGR_TEST_PG_DSN" \
      2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    rate[$shape]=$(awk -v t="$tps" -v n="$n" 'BEGIN { printf "%.0f", t * n }')
  done
  echo "| $round | ${rate[per_create]} | ${rate[per_batch]} |" \
       "$(awk -v a="${rate[per_batch]}" -v b="${rate[per_create]}" 'BEGIN { printf "%.2f", a / b }') |"
done
echo
echo "PostgreSQL (fsync on), schema from ctxmgr db init, $n creates a transaction, pgbench -c 2, ${secs}s per run; machine: $(nproc) cores"
