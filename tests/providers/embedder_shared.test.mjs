// Two servers on one PostgreSQL, both embedding with the same model: they share the work without
// embedding any version twice (the fake embeddings server counts every text it is sent), and each
// server's selection finds by meaning what the other one embedded (its index follows the store).
// B searches an HNSW graph (hnsw_threshold: 1), A every vector: both keep to the caller's view.
// Each index reads the vectors stored since its last read (reload_ms) and all of them again
// every reconcile_ms, which drops a deleted context's.
// Skipped without CTXMGR_TEST_PG_DSN.
//   node --test tests/providers/embedder_shared.test.mjs   (CTXMGR_BIN and CTXMGR_PLUGIN_DIR set by ctest)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startFakeProvider, embeddings } from "./fake_providers.mjs";
import { startServer } from "./server.mjs";

const dsn = process.env.CTXMGR_TEST_PG_DSN;
const schema = `emb_${process.pid}_${Date.now()}`;

let fake, a, b;
before(async () => {
  if (!dsn) return;
  fake = await startFakeProvider();
  fake.fallback = request => ({ status: 200, body: embeddings(request.body), delay: 5 });
  const extra = `embedder: {plugin: openai, options: {base_url: "${fake.url}", model: fake-embed, batch_size: 4}}\n` +
    // A query embedding that fails under a loaded CI machine (a timeout) would otherwise silence
    // the semantic component for the default 10 s cool-down, longer than the waits below.
    `embeddings: {interval_ms: 20, batch_size: 4, reload_ms: 200, reconcile_ms: 1500, cool_down_ms: 200}\n`;
  const storage = `{plugin: postgres, options: {url: "${dsn}", schema: ${schema}}}`;
  a = await startServer("  - {plugin: offline}", {}, "", extra, storage);
  b = await startServer("  - {plugin: offline}", {}, "",
    extra.replace("cool_down_ms: 200}", "cool_down_ms: 200, hnsw_threshold: 1}"), storage);
});
after(async () => { a?.stop(); b?.stop(); await fake?.close(); });

const metric = async (server, name) => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find(l => l.startsWith(name + " "));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
};
// `detail` (optional) tells on a timeout what the last check saw.
const until = async (what, check, ms = 15000, detail = () => "") => {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what} ${detail()}`.trim());
    await new Promise(r => setTimeout(r, 25));
  }
};

test("two servers share the embedding work and each other's vectors", { skip: !dsn && "no CTXMGR_TEST_PG_DSN" }, async () => {
  const N = 40;
  for (let i = 0; i < N; i++) {
    const r = await a.api("POST", "/api/context", "ana", { agent_id: "ana", context_data: { note: `nota ${i} sobre el tema ${i}` } });
    assert.equal(r.status, 201, r.text);
  }
  const target = await a.api("POST", "/api/context", "ana", { agent_id: "ana", context_data: { note: "la facturación sale los lunes" } });
  // Bob's note is the nearest of all to the query, and ana may not read it.
  const bobs = await a.api("POST", "/api/context", "bob", { agent_id: "bob", context_data: { note: "cobros" } });
  assert.equal(bobs.status, 201, bobs.text);
  await until("every version embedded once", async () =>
    (await metric(a, "ctxmgr_embedded_total")) + (await metric(b, "ctxmgr_embedded_total")) === N + 2);
  const texts = fake.received.filter(r => r.url === "/v1/embeddings").flatMap(r => JSON.parse(r.body).input)
    .filter(t => t.startsWith("note: "));  // the documents, not the queries
  assert.equal(texts.length, N + 2, "a version was embedded twice");
  assert.equal(new Set(texts).size, N + 2);

  // B finds by meaning the note A wrote, once its index has reloaded from the store.
  for (const [server, approximate] of [[b, 1], [a, 0]]) {
    let last = "";
    await until("the index follows the other server's vectors", async () => {
      const r = await server.api("POST", "/api/agent/ana/select", "ana", { query: "cobros", selector: "semantic", limit: 5 });
      assert.equal(r.status, 200, r.text);
      assert.ok(!r.json.items.some(i => i.context.id === bobs.json.id), "a context outside ana's view");
      // What decides it: each item's id and scores, and whatever else the answer says.
      last = JSON.stringify({ ...r.json, items: r.json.items.map(i => ({ id: i.context.id, score: i.score, scores: i.scores })) });
      return r.json.items[0]?.context.id === target.json.id;
    }, 15000, () => `(target ${target.json.id}; the last selection: ${last}; ` +
      `the server's log without its request lines ends: ` +
      `${server.log().split("\n").filter(l => !l.includes("[transport.http] request")).join("\n").slice(-3000)})`);
    await until("the index's kind on /metrics", async () =>
      (await metric(server, "ctxmgr_vector_index_approximate")) === approximate);
    await until("every vector in the index", async () =>
      (await metric(server, "ctxmgr_vector_index_size")) === N + 2);
  }
  // A deleted context's vector leaves both indexes at their next full read.
  const gone = await a.api("DELETE", `/api/context/${target.json.id}`, "ana");
  assert.equal(gone.status, 204, gone.text);
  for (const server of [a, b]) {
    await until("the deleted context's vector dropped", async () =>
      (await metric(server, "ctxmgr_vector_index_size")) === N + 1);
  }
});
