-- POST /api/agent/bench/select with 1-3 words drawn like the loaded contexts' words (Zipf over
-- $BENCH_VOCAB), limit 10, the default selector (hybrid). The 50 most frequent words are left
-- out of queries: in real text they are the function words that the stop list drops.
package.path = package.path .. ";" .. (os.getenv("BENCH_DIR") or ".") .. "/?.lua"
local report = require("wrk_report")
local words, cumulative, total = {}, {}, 0
for line in io.lines(os.getenv("BENCH_VOCAB")) do
  words[#words + 1] = line
  total = total + 1 / #words
  cumulative[#words] = total
end
local skip = 50
local function zipf_word()
  local x, lo, hi = cumulative[skip] + math.random() * (total - cumulative[skip]), skip + 1, #words
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cumulative[mid] < x then lo = mid + 1 else hi = mid end
  end
  return words[lo]
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Agent-Id"] = "bench"
function request()
  local q = {}
  for i = 1, math.random(1, 3) do q[i] = zipf_word() end
  return wrk.format(nil, "/api/agent/bench/select",
                    nil, '{"query":"' .. table.concat(q, " ") .. '","limit":10}')
end
done = report.done
