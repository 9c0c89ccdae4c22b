-- GET / against the ceiling server.
package.path = package.path .. ";" .. (os.getenv("BENCH_DIR") or ".") .. "/?.lua"
local report = require("wrk_report")
done = report.done
