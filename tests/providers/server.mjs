// `ctxmgr serve` for the provider tests (tests/support/ctxmgr_server.mjs): SQLite, the three
// selectors, reads audited at once, the providers given as YAML list items, and `api` to call it
// as an agent in trust mode.

import { startCtxmgr } from "../support/ctxmgr_server.mjs";

// `http`: more transport-http options, as YAML flow-mapping entries ("provider_queue: 1");
// `extra`: more top-level YAML (an `embedder:`); `storage`: the `storage:` mapping's YAML
// instead of SQLite in the server's folder (PostgreSQL for the tests that share one database).
export async function startServer(providers, env = {}, http = "", extra = "", storage = "") {
  const s = await startCtxmgr({ prefix: "ctxmgr-provider-", providers: `\n${providers}`, env, http,
                                extra: `audit: {reads: sync}\n${extra}`, storage: storage || undefined });
  const api = async (method, path, agent, body) => {
    const r = await fetch(`${s.baseUrl}${path}`, { method,
      headers: { "Content-Type": "application/json", "X-Agent-Id": agent },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    const sse = (r.headers.get("content-type") ?? "").startsWith("text/event-stream");
    // A body-less answer (204) has no JSON.
    return { status: r.status, headers: r.headers, text, json: sse || text === "" ? undefined : JSON.parse(text) };
  };
  return { dir: s.dir, api, url: s.baseUrl, log: s.log, stop: s.stop };
}
