// embedder-openai and the embedding worker through `ctxmgr serve`, against a fake embeddings
// server on loopback: every context's current version is embedded in the background (batches,
// the rendered text, the key sent and never logged), the backlog in /metrics goes to 0 and comes
// back after an update, and a 401, a 429 and a malformed answer each leave the backlog to be
// caught up later instead of storing anything wrong; selection finds by meaning what words miss,
// never outside the caller's view, and stays lexical (saying why) while the embedder fails.
//   node --test tests/providers/embedder_openai.test.mjs   (CTXMGR_BIN and CTXMGR_PLUGIN_DIR set by ctest)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
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
    `embeddings: {interval_ms: 50, retry_ms: 400, cool_down_ms: 300}\n`);
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

  // An answer without a vector per text is not stored at all: both are embedded again later.
  fake.received.length = 0;
  fake.script.push({ status: 200, body: { object: "list", data: [] } });
  await Promise.all([create({ note: "batched one" }), create({ note: "batched two" })]);
  await until("both embedded", async () => (await metric("ctxmgr_embedded_total")) === before + 4, 10000);
  assert.match(server.log(), /malformed embeddings/);
  assert.equal(await metric("ctxmgr_embedding_backlog"), 0);

  // 503 with retry-after 0: retried by the call; a hang past timeout_ms: a timeout, tried again
  // after retry_ms.
  fake.script.push({ status: 503, headers: { "retry-after": "0" }, body: openaiError("warming up", "server_error") });
  await create({ note: "unavailable once" });
  await until("the 503 retried", async () => (await metric("ctxmgr_embedded_total")) === before + 5);
  fake.script.push({ hang: 3000 });
  await create({ note: "the embedder hangs" });
  await until("the timeout logged", async () => /embedder openai did not answer within 2000 ms/.test(server.log()));
  await until("embedded after the timeout", async () => (await metric("ctxmgr_embedded_total")) === before + 6, 10000);
});

test("a write nudges the worker: no waiting out its interval", async () => {
  const idle = await startServer("  - {plugin: offline}", {}, "",
    `embedder: {plugin: openai, options: {base_url: "${fake.url}", model: fake-embed}}\n` +
    `embeddings: {interval_ms: 600000}\n`);
  try {
    const at = async () => {
      const text = await (await fetch(`${idle.url}/metrics`)).text();
      const line = text.split("\n").find(l => l.startsWith("ctxmgr_embedded_total "));
      return line === undefined ? 0 : Number(line.split(" ")[1]);
    };
    const r = await idle.api("POST", "/api/context", "dan", { agent_id: "dan", context_data: { note: "nudged" } });
    assert.equal(r.status, 201);
    await until("embedded within seconds, not 10 minutes", async () => (await at()) === 1, 5000);
  } finally {
    idle.stop();
  }
});

test("semantic selection: by meaning, within the view, lexical while the embedder fails", async () => {
  // Carol's own store (the earlier tests wrote alice's).
  const add = async (data, agent = "carol") => {
    const r = await server.api("POST", "/api/context", agent, { agent_id: agent, context_data: data });
    assert.equal(r.status, 201, r.text);
    return r.json.id;
  };
  const embedded = await metric("ctxmgr_embedded_total");
  const mine = await add({ note: "la facturación sale los lunes" });
  await add({ note: "the office plants need water" });
  // Bob's note is the closest of all to the query, and carol may not read it.
  const bobs = await server.api("POST", "/api/context", "bob", { agent_id: "bob", context_data: { note: "cobros" } });
  assert.equal(bobs.status, 201);
  // (the backlog gauge is set after each pass: the count of vectors stored is what moves now)
  await until("every vector", async () => (await metric("ctxmgr_embedded_total")) === embedded + 3);

  const select = body => server.api("POST", "/api/agent/carol/select", "carol", body);
  const semantic = await select({ query: "cobros", selector: "semantic", limit: 3 });
  assert.equal(semantic.status, 200, semantic.text);
  const ids = semantic.json.items.map(i => i.context.id);
  assert.equal(ids[0], mine, JSON.stringify(semantic.json.items.map(i => [i.context.context_data, i.scores])));
  assert.ok(!ids.includes(bobs.json.id));
  assert.ok(semantic.json.items[0].scores.semantic > 0);

  // Hybrid (the default with an embedder) has the semantic component beside the others.
  const hybrid = await select({ query: "cobros" });
  assert.equal(hybrid.status, 200, hybrid.text);
  assert.equal(hybrid.json.items[0].context.id, mine);
  assert.ok("semantic" in hybrid.json.items[0].scores);
  assert.ok(!hybrid.json.items.some(i => i.context.id === bobs.json.id));
  const record = await server.api("GET", `/api/selections/${hybrid.json.selection_id}`, "carol");
  assert.deepEqual(record.json.params.semantic, { model: "fake-embed", neighbours: record.json.params.semantic.neighbours, added: record.json.params.semantic.added });
  assert.ok(record.json.params.semantic.neighbours >= 1);

  // The embedder fails: selection answers from words alone and says why, then asks it again
  // only after the cool-down.
  fake.script.push({ status: 500, body: openaiError("model crashed", "server_error") },
                   { status: 500, body: openaiError("model crashed", "server_error") });
  const lexical = await select({ query: "facturación" });
  assert.equal(lexical.status, 200, lexical.text);
  assert.ok(!("semantic" in lexical.json.items[0].scores));
  const why = await server.api("GET", `/api/selections/${lexical.json.selection_id}`, "carol");
  assert.match(why.json.params.semantic.skipped, /model crashed/);
  const cooling = await select({ query: "facturación" });
  const whyNow = await server.api("GET", `/api/selections/${cooling.json.selection_id}`, "carol");
  assert.match(whyNow.json.params.semantic.skipped, /the embedder failed \d+ ms ago/);
  await new Promise(r => setTimeout(r, 350));
  fake.script.length = 0;
  const back = await select({ query: "cobros" });
  assert.equal(back.json.items[0].context.id, mine);
  assert.ok("semantic" in back.json.items[0].scores);
});

test("ctxmgr embeddings status and rebuild", async () => {
  const cli = (...args) => execFileSync(process.env.CTXMGR_BIN,
    ["--config", join(server.dir, "ctxmgr.yaml"), "embeddings", ...args],
    { env: { ...process.env, EMBED_TEST_KEY: KEY }, encoding: "utf8" });
  await until("an empty backlog", async () => (await metric("ctxmgr_embedding_backlog")) === 0);
  const status = JSON.parse(cli("status", "--json"));
  assert.equal(status.embedder, "openai");
  assert.equal(status.model, "fake-embed");
  assert.ok(status.live_contexts >= 10);
  assert.equal(status.backlog, 0);
  assert.equal(status.current, status.live_contexts);
  assert.equal(status.stored["fake-embed"], status.live_contexts);
  assert.match(cli("status"), new RegExp(`^embedder: openai, model fake-embed\\ncurrent: ${status.live_contexts} of ${status.live_contexts} live contexts\\nbacklog: 0\\n`));

  // A rebuild drops them; the running server's worker makes every one again.
  const before = await metric("ctxmgr_embedded_total");
  assert.match(cli("rebuild"), new RegExp(`^dropped ${status.stored["fake-embed"]} vector\\(s\\) of model fake-embed;`));
  await until("everything embedded again", async () =>
    (await metric("ctxmgr_embedded_total")) === before + status.live_contexts, 10000);
  assert.equal(JSON.parse(cli("status", "--json")).backlog, 0);
});
