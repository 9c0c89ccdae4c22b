#!/usr/bin/env bash
# The soak: the release server under a steady mixed load for MINUTES (default 30) at RATE
# requests/s (default 200), sampled every minute (RSS, open files, threads, latency percentiles,
# live contexts, database size), written to bench/soak-<backend>-<mode>.csv and plotted to the
# .png beside it; then the trend of each is fitted over the second half of the run (after the
# warm-up) and printed.
#   bench/soak.sh [MINUTES] [RATE]
# SOAK_BACKEND=postgres runs on a throwaway PostgreSQL (scripts/pg-temp.sh) instead of SQLite.
# SOAK_STORE_SIZE=N holds the store at N contexts (creates balanced by purges: mode "steady");
# 0, the default, lets it grow (mode "growing").
# Run it on an otherwise idle machine, never while a build runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
minutes=${1:-30}
rate=${2:-200}
backend=${SOAK_BACKEND:-sqlite}
store_size=${SOAK_STORE_SIZE:-0}
mode=growing; [[ $store_size -gt 0 ]] && mode=steady
bench_setup
command -v gnuplot >/dev/null || { echo "gnuplot is missing: scripts/install-deps.sh --with-bench" >&2; exit 1; }

work=$(mktemp -d /tmp/ctxmgr-soak.XXXXXX)
trap bench_cleanup EXIT
port=$(free_port)
# The shipped configurations, as an operator runs them (the PostgreSQL one in token mode).
export CONTEXT_MANAGER_PORT=$port LOG_LEVEL=warn CTXMGR_DATA_DIR=$work
tokens=()
if [[ $backend == postgres ]]; then
  bench_pg_start
  export DATABASE_URL=$CTXMGR_TEST_PG_DSN
  config=config/postgres.example.yaml
  size_cmd="psql -Atq '$CTXMGR_TEST_PG_DSN' -c 'SELECT pg_database_size(current_database())'"
  build/release/bin/ctxmgr --config $config db migrate >/dev/null
  tokens=(--token "$(build/release/bin/ctxmgr --config $config agent create soak 2>/dev/null)"
          --admin-token "$(build/release/bin/ctxmgr --config $config agent create root --role admin 2>/dev/null)")
else
  config=config/ctxmgr.yaml
  size_cmd="du -sb --apparent-size '$work' --exclude=server.log | cut -f1"
fi
build/release/bin/ctxmgr --config $config serve >"$work/server.log" 2>&1 &
pid=$!
wait_http "$port" /healthz
csv=bench/soak-$backend-$mode.csv
png=bench/soak-$backend-$mode.png
python3 bench/soak_load.py "$port" "$pid" "$minutes" "$rate" "$csv" \
  --store-size "$store_size" --size-cmd "$size_cmd" "${tokens[@]}"

title="ctxmgr soak: $backend, $rate req/s mixed, $minutes min"
[[ $mode == steady ]] && title="$title, store held at $store_size contexts"
gnuplot <<GNUPLOT
set terminal pngcairo size 1200,1200 noenhanced font ",10"
set output "$png"
set datafile separator ","
set key autotitle columnhead
set multiplot layout 4,1 title "$title (bench/soak.sh)"
set xlabel "minute"
set ylabel "MiB"
set yrange [0:*]
plot "$csv" using 1:(\$2/1024) with linespoints title "RSS (with mapped database pages)", "" using 1:(\$3/1024) with linespoints title "RssAnon (heap)"
set ylabel "count"
plot "$csv" using 1:4 with linespoints title "open files", "" using 1:5 with linespoints title "threads"
set ylabel "ms"
set logscale y
set yrange [*:*]
plot "$csv" using 1:8 with linespoints title "p50", "" using 1:9 with linespoints title "p90", "" using 1:10 with linespoints title "p99"
unset logscale y
set yrange [0:*]
set ylabel "contexts"
set y2label "MiB"
set y2tics
set y2range [0:*]
plot "$csv" using 1:12 with linespoints title "live contexts" axes x1y1, "" using 1:(\$13/1048576) with linespoints title "database size (MiB)" axes x1y2
unset multiplot
GNUPLOT

python3 - "$csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
half = rows[len(rows) // 2:]
def slope(key):
    xs = [float(r["minute"]) for r in half]; ys = [float(r[key]) for r in half]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs) or 1
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den, my
total = sum(int(r["requests"]) for r in rows); errs = sum(int(r["errors"]) for r in rows)
print(f"{sys.argv[1]}: {len(rows)} minutes, {total} requests, {errs} errors")
for key, unit in [("rss_kib", "KiB"), ("rss_anon_kib", "KiB"), ("open_fds", "fds"),
                  ("threads", "threads"), ("p50_ms", "ms"), ("p99_ms", "ms"),
                  ("contexts", "contexts"), ("db_bytes", "bytes")]:
    s, mean = slope(key)
    print(f"{key:>12}: mean {mean:12.1f} {unit}, trend over the second half {s:+.2f} {unit}/min "
          f"({100 * s * len(half) / mean if mean else 0:+.1f} % over it)")
PY
