#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the tests: initdb in a temporary folder, a free loopback port,
# the socket in that folder. Prints `export` lines for CTXMGR_TEST_PG_DSN and CTXMGR_TEST_PG_DIR.
#   eval "$(scripts/pg-temp.sh start)"  ...  scripts/pg-temp.sh stop "$CTXMGR_TEST_PG_DIR"
# The outage tests stop and restart the same server (same data, same port):
#   scripts/pg-temp.sh pause DIR; scripts/pg-temp.sh resume DIR
# A streaming replica of it (pg_basebackup -R: real replication, for the replica tests), on a port
# of its own, and its promotion:
#   scripts/pg-temp.sh replica DIR   (prints CTXMGR_TEST_PG_REPLICA_DIR, _PORT, _DSN)
#   scripts/pg-temp.sh promote REPLICA_DIR
# Tests run with fsync off (nothing they check needs the disk); PG_TEMP_FSYNC=on turns it on, as
# a production server has it (bench/production.sh).
fsync=${PG_TEMP_FSYNC:-off}
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

run_as_pg() {
  # initdb refuses to run as root: use the postgres system user then.
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Starts the cluster in DIR/data on PORT (a replica's standby.signal keeps it a standby).
start_on() {
  run_as_pg "$bin/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
    -o "-p $2 -k $1 -c listen_addresses=127.0.0.1 -c fsync=$fsync -c max_connections=200" start >/dev/null
}

# Starts the cluster in DIR/data on a free port and sets $port. A free port can be taken between
# the check and the start: a few are tried.
start_on_free_port() {
  port=""
  local p
  for p in $(shuf -i 20000-60000 -n 50); do
    (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null && continue
    if start_on "$1" "$p"; then
      port=$p
      return 0
    fi
  done
  return 1
}

case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/ctxmgr-pg.XXXXXX)
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
    run_as_pg "$bin/initdb" -D "$dir/data" -U ctxmgr --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    start_on_free_port "$dir" || { echo "pg-temp: PostgreSQL did not start" >&2; cat "$dir/server.log" >&2; exit 1; }
    run_as_pg "$bin/createdb" -h "$dir" -p "$port" -U ctxmgr ctxmgr_test
    echo "$port" >"$dir/port"
    echo "export CTXMGR_TEST_PG_DIR=$dir"
    echo "export CTXMGR_TEST_PG_PORT=$port"
    echo "export CTXMGR_TEST_PG_DSN='postgresql://ctxmgr@127.0.0.1:$port/ctxmgr_test'"
    ;;
  replica)
    primary=${2:?usage: pg-temp.sh replica DIR}
    pport=$(cat "$primary/port")
    dir=$(mktemp -d /tmp/ctxmgr-pg-replica.XXXXXX)
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
    run_as_pg "$bin/pg_basebackup" -h "$primary" -p "$pport" -U ctxmgr -D "$dir/data" -R -X stream -c fast \
      >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
    start_on_free_port "$dir" || { echo "pg-temp: the replica did not start" >&2; cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "export CTXMGR_TEST_PG_REPLICA_DIR=$dir"
    echo "export CTXMGR_TEST_PG_REPLICA_PORT=$port"
    echo "export CTXMGR_TEST_PG_REPLICA_DSN='postgresql://ctxmgr@127.0.0.1:$port/ctxmgr_test'"
    ;;
  promote)
    dir=${2:?usage: pg-temp.sh promote REPLICA_DIR}
    run_as_pg "$bin/pg_ctl" -D "$dir/data" -w promote >/dev/null
    ;;
  pause)
    dir=${2:?usage: pg-temp.sh pause DIR}
    run_as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume)
    dir=${2:?usage: pg-temp.sh resume DIR}
    start_on "$dir" "$(cat "$dir/port")"
    ;;
  stop)
    dir=${2:?usage: pg-temp.sh stop DIR}
    [[ -d "$dir/data" ]] && run_as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: pg-temp.sh start | stop DIR | pause DIR | resume DIR | replica DIR | promote DIR" >&2; exit 2 ;;
esac
