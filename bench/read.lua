-- GET /api/context/{id} of one of the contexts listed in $BENCH_IDS (one id a line).
package.path = package.path .. ";" .. (os.getenv("BENCH_DIR") or ".") .. "/?.lua"
local report = require("wrk_report")
report.auth()
local ids = report.ids()
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/api/context/" .. ids[(n % #ids) + 1])
end
done = report.done
