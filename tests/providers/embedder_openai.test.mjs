// embedder-openai and the embedding worker through `ctxmgr serve`, against a fake embeddings
// server on loopback: every context's current version is embedded in the background (batches,
// the rendered text, the key sent and never logged), the backlog in /metrics goes to 0 and comes
// back after an update, and a 401, a 429 and a malformed answer each leave the backlog to be
// caught up later instead of storing anything wrong.
//   node --test tests/providers/embedder_openai.test.mjs   (CTXMGR_BIN and CTXMGR_PLUGIN_DIR set by ctest)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startFakeProvider, embeddings, openaiError } from "./fake_providers.mjs";
import { startServer } from "./server.mjs";

const KEY = "sk-embed-test-0123456789";

let fake, server;
before(async () => {
  fake = await startFakeProvider();
  fake.fallback = request => ({ status: 200, body: embeddings(request.body) });
  server = await startServer("  - {plugin: offline}", { EMBED_TEST_KEY: KEY }, "",
    `embedder: {plugin: openai, options: {base_url: "${fake.url}", model: fake-embed, ` +
    `api_key: "\${EMBED_TEST_KEY}", batch_size: 2, max_retries: 1, timeout_ms: 2000}}\n` +
    `embeddings: {interval_ms: 50, retry_ms: 400}\n`);
});
after(async () => { server.stop(); await fake.close(); });

const metric = async (name) => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find(l => l.startsWith(name + " "));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
};
const until = async (what, check, ms = 8000) => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 25));
  }
};
const create = async (data) => {
  const r = await server.api("POST", "/api/context", "alice", { agent_id: "alice", context_data: data });
  assert.equal(r.status, 201, r.text);
  return r.json.id;
};
const inputs = () => fake.received.flatMap(r => JSON.parse(r.body).input);

test("each current version is embedded in the background, in batches", async () => {
  await create({ note: "invoices are exported on Mondays", tags: ["billing", "export"] });
  await create({ title: "cobros", detail: { owner: "ana", days: 3 } });
  const third = await create({ note: "the VPN needs a token" });
  await until("an empty backlog", async () => (await metric("ctxmgr_embedding_backlog")) === 0 &&
    (await metric("ctxmgr_embedded_total")) === 3);

  const sent = fake.received[0];
  assert.equal(sent.method, "POST");
  assert.equal(sent.url, "/v1/embeddings");
  assert.equal(sent.headers.authorization, `Bearer ${KEY}`);
  const body = JSON.parse(sent.body);
  assert.equal(body.model, "fake-embed");
  assert.equal("dimensions" in body, false);  // only when the option asks for it
  for (const r of fake.received) assert.ok(JSON.parse(r.body).input.length <= 2);  // batch_size
  // The documented rendering: keys and string values, nested keys on their own line.
  assert.deepEqual(inputs().sort(), [
    "note: invoices are exported on Mondays\ntags:\n- billing\n- export",
    "note: the VPN needs a token",
    "title: cobros\ndetail:\nowner: ana",
  ]);

  // A new version is embedded again, from its own text.
  fake.received.length = 0;
  const r = await server.api("PATCH", `/api/context/${third}`, "alice", { context_data: { note: "the VPN needs a hardware key" } });
  assert.equal(r.status, 200, r.text);
  await until("the new version embedded", async () => (await metric("ctxmgr_embedded_total")) === 4);
  assert.deepEqual(inputs(), ["note: the VPN needs a hardware key"]);
  assert.equal(await metric("ctxmgr_embedding_backlog"), 0);
  assert.ok(!server.log().includes(KEY));
});

test("a 401, a 429 and a malformed answer leave the backlog for later", async () => {
  const before = await metric("ctxmgr_embedded_total");
  fake.received.length = 0;
  fake.script.push({ status: 401, body: openaiError("Incorrect API key provided", "invalid_request_error", "invalid_api_key") });
  await create({ note: "rejected at first" });
  await until("the 401", async () => fake.received.length >= 1);
  await until("a backlog of one", async () => (await metric("ctxmgr_embedding_backlog")) === 1);
  assert.equal(await metric("ctxmgr_embedded_total"), before);
  assert.match(server.log(), /embedder openai rejected the credentials \(HTTP 401\): Incorrect API key provided/);
  assert.ok((await metric('ctxmgr_embedder_requests_total{embedder="openai",outcome="provider_error"}')) >= 1);
  // Once the claim's lease ends (retry_ms) the version is tried again, and the fallback answers.
  await until("the retry", async () => (await metric("ctxmgr_embedded_total")) === before + 1);

  // 429 with retry-after 0: retried at once by the call itself.
  fake.script.push({ status: 429, headers: { "retry-after": "0" }, body: openaiError("slow down", "rate_limit_error") });
  await create({ note: "rate limited once" });
  await until("the retried call", async () => (await metric("ctxmgr_embedded_total")) === before + 2);
  assert.ok((await metric('ctxmgr_embedder_retries_total{embedder="openai"}')) >= 1);

  // One vector for two texts is not stored at all: both are embedded again later.
  fake.received.length = 0;
  fake.script.push({ status: 200, body: { object: "list", data: [{ index: 0, embedding: [1, 2, 3, 4, 5, 6, 7, 8] }] } });
  await Promise.all([create({ note: "batched one" }), create({ note: "batched two" })]);
  await until("both embedded", async () => (await metric("ctxmgr_embedded_total")) === before + 4, 10000);
  assert.match(server.log(), /malformed embeddings/);
  assert.equal(await metric("ctxmgr_embedding_backlog"), 0);
});
