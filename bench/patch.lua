-- PATCH /api/context/{id}: merge one key into one of the contexts of $BENCH_IDS, spread over
-- them so that connections rarely wait on the same row.
package.path = package.path .. ";" .. (os.getenv("BENCH_DIR") or ".") .. "/?.lua"
local report = require("wrk_report")
local ids = report.ids()
local n = 0
request = function()
  n = n + 1
  return wrk.format("PATCH", "/api/context/" .. ids[(n % #ids) + 1],
    {["Content-Type"] = "application/json"}, '{"context_data":{"counter":' .. n .. '}}')
end
done = report.done
