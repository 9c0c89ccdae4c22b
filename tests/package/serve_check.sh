# Sourced by the install and package checks: serve_check <ctxmgr> <config> <data dir> <plugin dir>
# starts the server on a free loopback port with that config and data directory, checks that it
# loaded its plugins from <plugin dir>, creates and reads a context over HTTP, and stops it with
# SIGTERM (exit 0 expected).
serve_check() {
  local bin=$1 config=$2 data=$3 plugins=$4
  local port log pid
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  log=$data/serve.log
  mkdir -p "$data"
  (cd "$data" && CTXMGR_DATA_DIR=$data CONTEXT_MANAGER_PORT=$port exec "$bin" --config "$config" serve) \
    >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$log" >&2; fail "the server did not come up"; }
  grep -q "loaded storage 'sqlite' .* from $plugins/storage-sqlite.so" "$log" ||
    { cat "$log" >&2; fail "storage-sqlite.so was not loaded from $plugins"; }
  local created id
  created=$(curl -sf -X POST "http://127.0.0.1:$port/api/context" -H 'Content-Type: application/json' \
    -d '{"agent_id":"installed","context_data":{"from":"the installed tree"}}')
  id=$(printf '%s' "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -sf "http://127.0.0.1:$port/api/context/$id" | grep -q '"the installed tree"' ||
    fail "the context did not read back"
  [[ -f $data/context.db ]] || fail "no SQLite file in the data directory $data"
  kill -TERM "$pid"
  wait "$pid" || fail "the server did not stop cleanly on SIGTERM"
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
