// Retries against a loopback server that answers 503 or 429 before 200, one that never
// recovers, and no server at all.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Client, CtxmgrError, parseRetryAfter, retryDelay, defaultRetry } from "../dist/index.js";

async function scripted(script) {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    const [status, headers = {}] = script[Math.min(seen.length, script.length) - 1];
    const body = status < 300 ? { ok: true }
      : { error: { code: status === 503 ? "unavailable" : "rate_limited", message: "later", request_id: `r${seen.length}` } };
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const client = new Client({ baseUrl: `http://127.0.0.1:${server.address().port}`, agentId: "alice",
                              retry: { baseDelayMs: 1 } });
  return { seen, client, close: () => new Promise((r) => server.close(r)) };
}

test("503 then 429 then 200: retried, honouring Retry-After", async () => {
  const s = await scripted([[503, { "Retry-After": "0" }], [429, { "Retry-After": "0" }], [200]]);
  assert.deepEqual(await s.client.me(), { ok: true });
  assert.equal(s.seen.length, 3);
  await s.close();
});

test("a create is retried with the same idempotency key", async () => {
  const s = await scripted([[503], [201]]);
  await s.client.createContext({ agentId: "alice", contextData: { k: 1 } });
  assert.equal(s.seen.length, 2);
  const keys = s.seen.map((r) => r.headers["idempotency-key"]);
  assert.ok(keys[0]);
  assert.equal(keys[0], keys[1]);
  await s.close();
});

test("retries end with the last error", async () => {
  const s = await scripted([[503]]);
  await assert.rejects(s.client.me(), (e) => {
    assert.ok(e instanceof CtxmgrError);
    assert.equal(e.status, 503);
    assert.equal(e.code, "unavailable");
    assert.equal(e.requestId, `r${defaultRetry.maxRetries + 1}`);
    return true;
  });
  assert.equal(s.seen.length, defaultRetry.maxRetries + 1);
  await s.close();
});

test("no server: reads are retried, patches are not", async () => {
  const s = await scripted([[200]]);
  await s.close();  // nothing listens there now
  let calls = 0;
  const counting = (...args) => { calls++; return fetch(...args); };
  const client = new Client({ baseUrl: s.client.baseUrl, agentId: "alice", retry: { baseDelayMs: 1 }, fetch: counting });
  await assert.rejects(client.me(), (e) => e.status === 0 && e.code === "connection");
  assert.equal(calls, defaultRetry.maxRetries + 1);
  calls = 0;
  await assert.rejects(client.updateContext("01936f3e-8c1a-7b2e-9f41-000000000001", { contextData: { x: 1 } }),
                       (e) => e.code === "connection");
  assert.equal(calls, 1);
});

test("Retry-After forms and the backoff", () => {
  assert.equal(parseRetryAfter("3"), 3000);
  assert.equal(parseRetryAfter("soon"), undefined);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  const policy = { maxRetries: 3, baseDelayMs: 500, maxWaitMs: 4000 };
  assert.equal(retryDelay(policy, 0, "2"), 2000);
  assert.ok(retryDelay(policy, 10) <= 4000);
  assert.ok(retryDelay(policy, 1, "600") >= 750);  // too long a Retry-After: the backoff
});
