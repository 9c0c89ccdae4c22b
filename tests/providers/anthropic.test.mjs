// provider-anthropic through `ctxmgr serve` against a fake Anthropic server on loopback: the wire
// format (path, x-api-key, anthropic-version, system blocks with the context block marked for the
// prompt cache, max_tokens, no temperature unless given), the answer mapped back (text blocks,
// stop_reason, usage with cache reads), 529 then success, and the error mapping.
//   node --test tests/providers/anthropic.test.mjs   (CTXMGR_BIN and CTXMGR_PLUGIN_DIR set by ctest)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startFakeProvider, message, anthropicError, anthropicStream, parseSse } from "./fake_providers.mjs";
import { startServer } from "./server.mjs";

const KEY = "sk-ant-test-0123456789";

let fake, server;
before(async () => {
  fake = await startFakeProvider();
  server = await startServer(
    `  - {plugin: anthropic, options: {api_key: "\${ANTHROPIC_TEST_KEY}", base_url: "${fake.root}", ` +
    `default_model: claude-default, timeout_ms: 1500, max_retries: 1}}\n` +
    `  - {plugin: anthropic, name: nokey, options: {base_url: "${fake.root}"}}`,
    { ANTHROPIC_TEST_KEY: KEY });
});
after(async () => { server.stop(); await fake.close(); });

const ask = (extra = {}) => server.api("POST", "/api/agent/alice/process", "alice",
  { messages: [{ role: "user", content: "What about invoices?" }], ...extra });

test("the request on the wire and the answer mapped back", async () => {
  const mine = await server.api("POST", "/api/context", "alice",
    { agent_id: "alice", context_data: { note: "invoices are exported on Mondays" } });
  assert.equal(mine.status, 201);
  fake.received.length = 0;
  fake.script.push({ status: 200, body: message(["On ", "Mondays."], { input: 30, output: 4, cacheRead: 900, cacheWrite: 100 }) });
  const r = await ask({ system: "Be brief.", max_tokens: 50, context: { query: "invoice" } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.provider, "anthropic");
  assert.equal(r.json.model, "claude-fake-1");
  assert.equal(r.json.output_text, "On Mondays.");
  assert.equal(r.json.stop_reason, "end_turn");
  assert.deepEqual(r.json.usage, { input_tokens: 1030, output_tokens: 4 });
  assert.deepEqual(r.json.context_ids, [mine.json.id]);

  const sent = fake.received[0];
  assert.equal(sent.url, "/v1/messages");
  assert.equal(sent.headers["x-api-key"], KEY);
  assert.equal(sent.headers["anthropic-version"], "2023-06-01");
  assert.equal(sent.headers.authorization, undefined);
  const body = JSON.parse(sent.body);
  assert.equal(body.model, "claude-default");
  assert.equal(body.max_tokens, 50);
  assert.equal("temperature" in body, false);  // only when given
  assert.deepEqual(body.system[0], { type: "text", text: "Be brief." });
  assert.equal(body.system[1].type, "text");
  assert.deepEqual(body.system[1].cache_control, { type: "ephemeral" });
  assert.ok(body.system[1].text.startsWith(`<context id="${mine.json.id}" owner="alice"`));
  assert.deepEqual(body.messages, [{ role: "user", content: "What about invoices?" }]);
  assert.ok(!server.log().includes(KEY));
});

test("529 overloaded then success; errors mapped", async () => {
  fake.received.length = 0;
  fake.script.push({ status: 529, headers: { "retry-after": "0" }, body: anthropicError("overloaded_error", "Overloaded") });
  fake.script.push({ status: 200, body: message(["fine"]) });
  const ok = await ask({ temperature: 0.5 });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.output_text, "fine");
  assert.equal(fake.received.length, 2);
  assert.equal(JSON.parse(fake.received[1].body).temperature, 0.5);

  fake.script.push({ status: 401, body: anthropicError("authentication_error", "invalid x-api-key") });
  const rejected = await ask();
  assert.equal(rejected.status, 502);
  assert.match(rejected.json.error.message, /anthropic rejected the credentials \(HTTP 401\): invalid x-api-key/);

  fake.script.push({ status: 429, headers: { "retry-after": "0" }, body: anthropicError("rate_limit_error", "slow down") });
  fake.script.push({ status: 429, headers: { "retry-after": "3" }, body: anthropicError("rate_limit_error", "slow down") });
  const limited = await ask();
  assert.equal(limited.status, 429);
  assert.equal(limited.json.error.retry_after, 3);

  fake.script.push({ status: 400, body: anthropicError("invalid_request_error", "max_tokens: too large") });
  const bad = await ask();
  assert.equal(bad.status, 502);
  assert.match(bad.json.error.message, /max_tokens: too large/);

  fake.script.push({ status: 200, raw: '{"type":"message","content":"not blocks"}' });
  const malformed = await ask();
  assert.equal(malformed.status, 502);
  assert.match(malformed.json.error.message, /malformed/);

  const nokey = await ask({ provider: "nokey" });
  assert.equal(nokey.status, 503);
  assert.match(nokey.json.error.message, /no API key/);
});

test("streaming: text deltas, then done with usage; an error event", async () => {
  fake.received.length = 0;
  fake.script.push({ sse: anthropicStream(["On ", "Mondays."]) });
  const r = await ask({ stream: true });
  assert.equal(r.status, 200);
  const events = parseSse(r.text);
  assert.deepEqual(events.map(e => e.event), ["delta", "delta", "done"]);
  assert.equal(events[2].data.output_text, "On Mondays.");
  assert.equal(events[2].data.stop_reason, "end_turn");
  assert.deepEqual(events[2].data.usage, { input_tokens: 525, output_tokens: 9 });
  assert.equal(JSON.parse(fake.received[0].body).stream, true);

  const ev = (name, data) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  fake.script.push({ sse: anthropicStream(["x"], { stop: false }).split("event: content_block_stop")[0] +
    ev("error", anthropicError("overloaded_error", "Overloaded")) });
  const failed = parseSse((await ask({ stream: true })).text);
  assert.deepEqual(failed.map(e => e.event), ["delta", "error"]);
  assert.match(failed[1].data.error.message, /anthropic: Overloaded/);

  fake.script.push({ sse: anthropicStream(["y"], { stop: false }) });
  const ended = parseSse((await ask({ stream: true })).text);
  assert.equal(ended.at(-1).event, "error");
  assert.match(ended.at(-1).data.error.message, /ended before message_stop/);
});
