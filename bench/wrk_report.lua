-- Shared by the bench scripts: the ids of $BENCH_IDS, and one machine-readable line at the end of
-- a wrk run.
local M = {}
function M.ids()
  local ids = {}
  for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
  return ids
end
-- Token mode: $BENCH_TOKEN as the bearer of every request (nothing when unset).
function M.auth()
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
end
function M.done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
                 summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT rps=%.1f p50_us=%d p99_us=%d errors=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    errors, summary.requests))
end
return M
