-- POST /api/context with a small document, as the seed's example.
package.path = package.path .. ";" .. (os.getenv("BENCH_DIR") or ".") .. "/?.lua"
local report = require("wrk_report")
report.auth()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"agent_id":"bench","context_data":{"información":"valor","n":1},"metadata":{"priority":"high"}}'
done = report.done
