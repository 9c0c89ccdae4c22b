#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz) for a fixed time from its seed corpus
# (tests/fuzz/corpus/<target>), with ASan and UBSan. Any crash, leak, timeout or sanitizer report
# fails the run and leaves the input in build/fuzz/findings/<target>/.
#   scripts/fuzz.sh [seconds per target]   (default 20; CI's step)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
scripts/install-deps.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

out=build/fuzz/findings
rm -rf "$out"
failed=0
printf '%-22s %10s %8s %8s %8s\n' target execs exec/s cov corpus
for bin in build/fuzz/bin/fuzz_*; do
  name=$(basename "$bin")
  work=$out/$name
  mkdir -p "$work/corpus"
  log=$work/log.txt
  # The repo's seeds are read, never written: new inputs go to the work corpus.
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/" "$work/corpus" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
    failed=1
    echo "FAIL: $name (see $log)" >&2
    grep -E "ERROR|SUMMARY|==[0-9]+==" "$log" | head -20 >&2 || true
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$( (grep -oE 'cov: [0-9]+' "$log" || true) | tail -1 | cut -d' ' -f2)
  corpus=$(ls "$work/corpus" | wc -l)
  printf '%-22s %10s %8s %8s %8s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corpus"
done
exit $failed
