# Shared by the bench scripts (sourced, from the repository root).

# A bench stopped by a signal (timeout, Ctrl-C) still runs its EXIT trap (bench_cleanup), so its
# server and throwaway PostgreSQL do not outlive it: bash runs EXIT traps on `exit`, not when a
# signal kills it.
trap 'exit 143' TERM
trap 'exit 130' INT

# Installs the tools, builds the release preset.
bench_setup() {
  scripts/install-deps.sh --with-bench
  cmake --preset release >/dev/null
  cmake --build --preset release >/dev/null
  export BENCH_DIR=$PWD/bench
}

# A field of /proc/PID/status in KiB: rss_kib PID VmRSS (now) or VmHWM (peak).
rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' /proc/"$1"/status; }

# wrk for $secs seconds with bench/SCRIPT.lua against URL at CONNS connections (one wrk thread
# for one connection, else two); prints the script's RESULT line.
run_wrk() { # script url conns
  local threads=2; [[ $3 -lt 2 ]] && threads=1
  wrk -t"$threads" -c"$3" -d"${secs}s" -s "bench/$1.lua" "$2" | grep '^RESULT'
}

# A TCP port on 127.0.0.1 that nothing listens on.
free_port() { for p in $(shuf -i 20000-60000 -n 50); do (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null || { echo "$p"; return; }; done; }

# Waits until http://127.0.0.1:PORT/PATH answers (10 s at most).
wait_http() { for _ in $(seq 200); do curl -sf "http://127.0.0.1:$1$2" >/dev/null && return 0; sleep 0.05; done; return 1; }

# Creates 200 contexts on the server at PORT and writes their ids to FILE, one a line
# ($BENCH_TOKEN, when set, as the bearer).
create_contexts() {
  local port=$1 file=$2
  local auth=()
  [[ -n "${BENCH_TOKEN:-}" ]] && auth=(-H "Authorization: Bearer $BENCH_TOKEN")
  for i in $(seq 200); do
    curl -s -X POST "http://127.0.0.1:$port/api/context" -H 'Content-Type: application/json' "${auth[@]}" \
      -d "{\"agent_id\":\"bench\",\"context_data\":{\"i\":$i,\"información\":\"valor\"}}" |
      sed -E 's/^\{"id":"([^"]+)".*/\1/'
    echo  # curl prints no newline after the body (some servers do: empty lines go below)
  done >"$file"
  sed -i '/^$/d' "$file"
  [[ $(grep -c . "$file") -eq 200 ]] || { echo "could not create the contexts" >&2; return 1; }
}

# A throwaway PostgreSQL for this bench (scripts/pg-temp.sh): exports CTXMGR_TEST_PG_DSN and
# CTXMGR_TEST_PG_DIR; bench_cleanup stops it (and only one this bench started).
bench_pg_start() {
  eval "$(scripts/pg-temp.sh start)"
  bench_pg_dir=$CTXMGR_TEST_PG_DIR
}

# The EXIT trap of a bench: stops the server whose PID is in $pid, the PostgreSQL of
# bench_pg_start, and removes the folder $work.
bench_cleanup() {
  if [[ -n "${pid:-}" ]]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; fi
  [[ -n "${bench_pg_dir:-}" ]] && scripts/pg-temp.sh stop "$bench_pg_dir"
  rm -rf "${work:?}"
}
