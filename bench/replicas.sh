#!/usr/bin/env bash
# Selection throughput with 0, 1 and 2 PostgreSQL streaming replicas (docs/scaling.md): a primary
# and two replicas of it (scripts/pg-temp.sh start, replica, replica: pg_basebackup -R, real
# replication), 100 000 contexts of one agent loaded once through the API (bench/select_load.py),
# then for each replica count a fresh `ctxmgr serve` whose storage reads from that many replicas,
# and wrk with bench/select.lua at 1 and 8 connections. Prints a Markdown table with the share of
# the reads the replicas served (ctxmgr_postgres_reads_total) and each server's CPU seconds; then
# the round trips per second pgbench gets (SELECT 1, 1 and 32 clients) from the primary directly
# and through PgBouncer in transaction mode (the pooler docs/scaling.md puts in front of it).
#   bench/replicas.sh [seconds per run, default 15]
# BENCH_SIZE overrides the number of contexts (default 100000); BENCH_PARTS="pooler" runs only the
# PgBouncer part (default "replicas pooler").
# Everything (wrk, ctxmgr, the primary and both replicas) shares this machine's cores: see
# bench/README.md for what that can and cannot show. Never run it while a build runs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
size=${BENCH_SIZE:-100000}
parts=${BENCH_PARTS:-replicas pooler}
source bench/common.sh
bench_setup
bin=build/release/bin
work=$(mktemp -d /tmp/ctxmgr-replicas.XXXXXX)
replica_dirs=()
cleanup() {
  for d in "${replica_dirs[@]}"; do scripts/pg-temp.sh stop "$d"; done
  bench_cleanup
}
trap cleanup EXIT
bench_pg_start
replica_dsns=()
[[ $parts == *replicas* ]] && for _ in 1 2; do
  eval "$(scripts/pg-temp.sh replica "$CTXMGR_TEST_PG_DIR")"
  replica_dirs+=("$CTXMGR_TEST_PG_REPLICA_DIR")
  replica_dsns+=("$CTXMGR_TEST_PG_REPLICA_DSN")
done
export BENCH_VOCAB=$work/vocab.txt

# Starts a server reading from the first $1 replicas; sets $pid and $port.
serve() {
  local n=$1 list=""
  for ((i = 0; i < n; i++)); do list+="${list:+, }'${replica_dsns[$i]}'"; done
  port=$(free_port)
  cat >"$work/ctxmgr.yaml" <<YAML
server: {log: {level: warn}}
selectors: [{plugin: keyword}, {plugin: priority}, {plugin: recency}]
storage: {plugin: postgres, options: {url: '$CTXMGR_TEST_PG_DSN', schema: bench, pool_size: 16,
  replicas: [$list], replica_pool_size: 16}}
transports: [{plugin: http, options: {listen: "127.0.0.1:$port"}}]
YAML
  "$bin/ctxmgr" --config "$work/ctxmgr.yaml" serve 2>>"$work/server.log" &
  pid=$!
  wait_http "$port" /healthz
}

reads() { # target: the server's count of reads that went there
  curl -s "http://127.0.0.1:$port/metrics" |
    awk -v t="ctxmgr_postgres_reads_total{target=\"$1\"}" '$1 == t {print $2; f=1} END {if (!f) print 0}'
}

if [[ $parts == *replicas* ]]; then
serve 0
start=$(date +%s)
python3 bench/select_load.py "$port" "$size" "$BENCH_VOCAB"
load=$(($(date +%s) - start))
# Steady state, as bench/select.sh: analysed, and the postings' visibility map set.
psql -q "$CTXMGR_TEST_PG_DSN" -c "ANALYZE bench.context" -c "VACUUM ANALYZE bench.context_postings"
# The replicas replay the load and the vacuum before any run.
lsn=$(psql -Atq "$CTXMGR_TEST_PG_DSN" -c "SELECT pg_current_wal_lsn()")
for dsn in "${replica_dsns[@]}"; do
  until [[ $(psql -Atq "$dsn" -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'") == t ]]; do sleep 1; done
done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

echo "Loaded $size contexts in ${load}s."
echo
echo "| replicas | connections | selections/s | p50 ms | p99 ms | errors | reads on replicas | server CPU s |"
echo "|---|---|---|---|---|---|---|---|"
for n in 0 1 2; do
  serve "$n"
  # In rotation before the runs (a replica is checked every replica_check_ms).
  for _ in $(seq 100); do
    up=$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 ~ /^ctxmgr_postgres_replica_up/ {s += $2} END {print s + 0}')
    [[ $up -ge $n ]] && break
    sleep 0.1
  done
  for conns in 1 8; do
    r0=$(reads replica); p0=$(reads primary)
    cpu0=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
    line=$(run_wrk select "http://127.0.0.1:$port" "$conns")
    cpu1=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
    r1=$(reads replica); p1=$(reads primary)
    rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$line")
    p50=$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$line")
    p99=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$line")
    errors=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$line")
    awk -v n="$n" -v c="$conns" -v r="$rps" -v p50="$p50" -v p99="$p99" -v e="$errors" \
      -v rr=$((r1 - r0)) -v rp=$((p1 - p0)) -v cpu=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" \
      'BEGIN { printf "| %s | %s | %s | %.2f | %.2f | %s | %.0f%% | %.1f |\n", n, c, r, p50/1000,
               p99/1000, e, (rr + rp > 0 ? 100 * rr / (rr + rp) : 0), cpu / hz }'
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
fi

# PgBouncer's hop: one round trip (SELECT 1) directly and through a transaction-mode pool.
bouncer=/usr/sbin/pgbouncer
if [[ $parts == *pooler* && -x $bouncer ]]; then
  bdir=$work/pgbouncer
  # pgbouncer runs as postgres when this runs as root: it must reach its folder.
  mkdir -p "$bdir" && chmod 711 "$work" && chmod 777 "$bdir"
  bport=$(free_port)
  pgport=$(cat "$CTXMGR_TEST_PG_DIR/port")
  echo '"ctxmgr" ""' >"$bdir/users.txt"
  cat >"$bdir/pgbouncer.ini" <<INI
[databases]
ctxmgr_test = host=127.0.0.1 port=$pgport dbname=ctxmgr_test
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $bdir/users.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 200
logfile = $bdir/pgbouncer.log
INI
  as_pg=(); [[ $(id -u) -eq 0 ]] && as_pg=(setpriv --reuid=postgres --regid=postgres --clear-groups)
  "${as_pg[@]}" "$bouncer" "$bdir/pgbouncer.ini" 2>>"$bdir/stderr.txt" &
  bpid=$!
  trap 'kill $bpid 2>/dev/null; cleanup' EXIT
  for _ in $(seq 100); do grep -q "process up" "$bdir/pgbouncer.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "process up" "$bdir/pgbouncer.log" || { echo "pgbouncer did not start" >&2; exit 1; }
  echo 'SELECT 1;' >"$bdir/select1.sql"
  echo
  echo "| path | clients | round trips/s |"
  echo "|---|---|---|"
  for clients in 1 32; do
    for path in direct pgbouncer; do
      port_of=$pgport; [[ $path == pgbouncer ]] && port_of=$bport
      tps=$(pgbench -n -h 127.0.0.1 -p "$port_of" -U ctxmgr -c "$clients" -j $((clients < 2 ? 1 : 2)) -T "$secs" \
              -f "$bdir/select1.sql" ctxmgr_test 2>/dev/null |
            sed -nE 's/^tps = ([0-9.]+).*/\1/p')
      printf '| %s | %s | %.0f |\n' "$path" "$clients" "$tps"
    done
  done
fi
