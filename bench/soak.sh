#!/usr/bin/env bash
# The soak: the release server on SQLite under a steady mixed load for MINUTES (default 30) at
# RATE requests/s (default 200), sampled every minute (RSS, open files, threads, latency
# percentiles), written to bench/soak.csv and plotted to bench/soak.png; then the trend of each is
# fitted over the second half of the run (after the warm-up) and printed.
#   bench/soak.sh [MINUTES] [RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
minutes=${1:-30}
rate=${2:-200}
bench_setup
command -v gnuplot >/dev/null || { echo "gnuplot is missing: scripts/install-deps.sh --with-bench" >&2; exit 1; }

work=$(mktemp -d)
port=$(free_port)
CTXMGR_DATA_DIR=$work CONTEXT_MANAGER_PORT=$port LOG_LEVEL=warn \
  build/release/bin/ctxmgr --config config/ctxmgr.yaml serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
wait_http "$port" /healthz
python3 bench/soak_load.py "$port" "$server" "$minutes" "$rate" bench/soak.csv

gnuplot <<GNUPLOT
set terminal pngcairo size 1200,900 noenhanced font ",10"
set output "bench/soak.png"
set datafile separator ","
set key autotitle columnhead
set multiplot layout 3,1 title "ctxmgr soak: SQLite, ${rate} req/s mixed, ${minutes} min (bench/soak.sh)"
set xlabel "minute"
set ylabel "MiB"
set yrange [0:*]
plot "bench/soak.csv" using 1:(\$2/1024) with linespoints title "RSS (with mapped database pages)", "" using 1:(\$3/1024) with linespoints title "RssAnon (heap)"
set ylabel "count"
plot "bench/soak.csv" using 1:4 with linespoints title "open files", "" using 1:5 with linespoints title "threads"
set ylabel "ms"
set logscale y
set yrange [*:*]
plot "bench/soak.csv" using 1:8 with linespoints title "p50", "" using 1:9 with linespoints title "p90", "" using 1:10 with linespoints title "p99"
unset multiplot
GNUPLOT

python3 - "$minutes" <<'PY'
import csv, sys
rows = list(csv.DictReader(open("bench/soak.csv")))
half = rows[len(rows) // 2:]
def slope(key):
    xs = [float(r["minute"]) for r in half]; ys = [float(r[key]) for r in half]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs) or 1
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den, my
total = sum(int(r["requests"]) for r in rows); errs = sum(int(r["errors"]) for r in rows)
print(f"{len(rows)} minutes, {total} requests, {errs} errors")
for key, unit in [("rss_kib", "KiB"), ("rss_anon_kib", "KiB"), ("open_fds", "fds"), ("threads", "threads"), ("p50_ms", "ms"), ("p99_ms", "ms")]:
    s, mean = slope(key)
    print(f"{key:>9}: mean {mean:10.1f} {unit}, trend over the second half {s:+.2f} {unit}/min "
          f"({100 * s * len(half) / mean if mean else 0:+.1f} % over it)")
PY
