-- POST /api/context with a note of 40 words (title and body), the size of bench/select_load.py's
-- contexts: what a write costs the search index.
package.path = package.path .. ";" .. (os.getenv("BENCH_DIR") or ".") .. "/?.lua"
local report = require("wrk_report")
report.auth()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"agent_id":"bench","context_data":{"title":"Migración de la facturación mensual",' ..
  '"body":"El equipo de cobros revisa las facturas pendientes antes del cierre; the billing ' ..
  'service retries failed payments twice, sends a reminder to the customer and records every ' ..
  'attempt in the ledger so finance can reconcile invoices with bank statements at month end"},' ..
  '"metadata":{"tags":["billing"],"priority":"high"}}'
done = report.done
