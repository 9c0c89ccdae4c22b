// provider-openai through `ctxmgr serve` against a fake OpenAI server on loopback: the wire
// format it sends (path, Bearer key, model, messages with the context block, max tokens,
// temperature), the answer it maps back, retries (429 with retry-after then success; 500s until
// retries run out), the error mapping (401, 400, 429 at the end, timeout, malformed body, no key),
// and that only contexts the agent may read reach the provider.
//   node --test tests/providers/openai.test.mjs   (CTXMGR_BIN and CTXMGR_PLUGIN_DIR set by ctest)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startFakeProvider, completion, openaiError, openaiStream, parseSse } from "./fake_providers.mjs";
import { startServer } from "./server.mjs";

const KEY = "sk-test-0123456789abcdef";

let fake, server;
before(async () => {
  fake = await startFakeProvider();
  server = await startServer(
    `  - {plugin: openai, options: {api_key: "\${OPENAI_TEST_KEY}", base_url: "${fake.url}", ` +
    `default_model: gpt-default, timeout_ms: 1500, max_retries: 2}}\n` +
    `  - {plugin: openai, name: nokey, options: {base_url: "${fake.url}"}}\n` +
    `  - {plugin: openai, name: noretry, options: {api_key: "k", base_url: "${fake.url}", max_retries: 0}}`,
    { OPENAI_TEST_KEY: KEY });
});
after(async () => { server.stop(); await fake.close(); });

const ask = (extra = {}) => server.api("POST", "/api/agent/alice/process", "alice",
  { messages: [{ role: "user", content: "¿Qué pasa con la facturación?" }], ...extra });

test("the request on the wire and the answer mapped back", async () => {
  const mine = await server.api("POST", "/api/context", "alice",
    { agent_id: "alice", context_data: { nota: "migración de facturación el lunes" } });
  const theirs = await server.api("POST", "/api/context", "bob",
    { agent_id: "bob", context_data: { nota: "facturación secreta de bob" } });
  assert.equal(mine.status, 201);
  fake.received.length = 0;
  fake.script.push({ status: 200, body: completion("Se migra el lunes.", { prompt: 120, out: 7 }) });
  const r = await ask({ system: "Be brief.", max_tokens: 64, temperature: 0.3,
    context: { query: "facturacion" } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(r.json.context_ids, [mine.json.id]);
  assert.equal(r.json.provider, "openai");
  assert.equal(r.json.model, "gpt-fake-1");
  assert.equal(r.json.output_text, "Se migra el lunes.");
  assert.equal(r.json.stop_reason, "stop");
  assert.deepEqual(r.json.usage, { input_tokens: 120, output_tokens: 7 });

  assert.equal(fake.received.length, 1);
  const sent = fake.received[0];
  assert.equal(sent.method, "POST");
  assert.equal(sent.url, "/v1/chat/completions");
  assert.equal(sent.headers.authorization, `Bearer ${KEY}`);
  assert.match(sent.headers["content-type"], /^application\/json/);
  const body = JSON.parse(sent.body);
  assert.equal(body.model, "gpt-default");
  assert.equal(body.max_completion_tokens, 64);
  assert.equal(body.temperature, 0.3);
  assert.equal(body.stream, undefined);
  assert.equal(body.messages.length, 2);
  assert.equal(body.messages[0].role, "system");
  assert.ok(body.messages[0].content.startsWith("Be brief.\n\n<context id=\"" + mine.json.id + "\" owner=\"alice\""));
  assert.ok(body.messages[0].content.includes("migración de facturación el lunes"));
  assert.ok(!sent.body.includes(theirs.json.id) && !sent.body.includes("secreta"));  // bob's: never
  assert.deepEqual(body.messages[1], { role: "user", content: "¿Qué pasa con la facturación?" });

  // The key never reaches the log.
  assert.ok(!server.log().includes(KEY));
  const audit = await server.api("GET", "/api/audit?action=process", "admin");
  const details = audit.json.items[0].details;
  assert.equal(details.provider, "openai");
  assert.deepEqual(details.context_ids, [mine.json.id]);
  assert.deepEqual(details.usage, { input_tokens: 120, output_tokens: 7 });
});

test("a 429 with retry-after, then success; 500s until the retries run out", async () => {
  fake.received.length = 0;
  fake.script.push({ status: 429, headers: { "retry-after": "1" }, body: openaiError("Rate limit reached", "requests", "rate_limit_exceeded") });
  fake.script.push({ status: 200, body: completion("after the wait") });
  const started = Date.now();
  const ok = await ask();
  assert.equal(ok.status, 200);
  assert.equal(ok.json.output_text, "after the wait");
  assert.equal(fake.received.length, 2);
  assert.ok(Date.now() - started >= 950, "waited for retry-after");

  fake.received.length = 0;
  for (let i = 0; i < 3; i++) fake.script.push({ status: 500, headers: { "retry-after-ms": "10" }, body: openaiError("The server had an error", "server_error", null) });
  const failed = await ask();
  assert.equal(failed.status, 502);
  assert.equal(failed.json.error.code, "provider_error");
  assert.match(failed.json.error.message, /The server had an error/);
  assert.equal(fake.received.length, 3);  // the first try and two retries

  // The provider's own metrics, under its instance name.
  const metrics = await (await fetch(server.url + "/metrics")).text();
  const value = name => Number((metrics.split("\n").find(l => l.startsWith(name + " ")) ?? " -1").split(" ")[1]);
  assert.ok(value('ctxmgr_provider_retries_total{provider="openai"}') >= 3);
  assert.ok(value('ctxmgr_provider_requests_total{provider="openai",outcome="ok"}') >= 1);
  assert.ok(value('ctxmgr_provider_requests_total{provider="openai",outcome="provider_error"}') >= 1);
  assert.ok(value('ctxmgr_provider_request_duration_seconds_count{provider="openai"}') >= 2);
});

test("slow model calls wait apart: health checks and reads are answered meanwhile", async () => {
  const ctx = await server.api("POST", "/api/context", "alice",
    { agent_id: "alice", context_data: { k: 1 } });
  // More slow calls than the server has I/O threads (one per core).
  fake.received.length = 0;
  for (let i = 0; i < 4; i++) fake.script.push({ delay: 1500, status: 200, body: completion("late") });
  let settled = 0;
  const slow = Array.from({ length: 4 },
    () => ask({ provider: "noretry" }).then(r => { settled++; return r; }));
  while (fake.received.length < 4) await new Promise(r => setTimeout(r, 10));
  const health = await fetch(`${server.url}/healthz`);
  const read = await server.api("GET", `/api/context/${ctx.json.id}`, "alice");
  assert.equal(health.status, 200);
  assert.equal(read.status, 200);
  assert.equal(settled, 0, "health and the read were answered while every model call still waited");
  for (const r of await Promise.all(slow)) assert.equal(r.status, 200, JSON.stringify(r.json));
});

test("a full queue of model calls answers 503 with Retry-After at once", async () => {
  const small = await startServer(
    `  - {plugin: openai, options: {api_key: "k", base_url: "${fake.url}", max_retries: 0}}`,
    {}, "provider_workers: 1, provider_queue: 2");
  try {
    fake.received.length = 0;
    for (let i = 0; i < 2; i++) fake.script.push({ delay: 800, status: 200, body: completion("late") });
    const call = () => small.api("POST", "/api/agent/alice/process", "alice",
      { messages: [{ role: "user", content: "hola" }] });
    // Three at once: one runs, one waits, and the queue (2) is full for the third.
    const results = await Promise.all([call(), call(), call()]);
    const refused = results.filter(r => r.status === 503);
    assert.equal(refused.length, 1, results.map(r => r.status).join(","));
    assert.equal(refused[0].json.error.code, "unavailable");
    assert.equal(refused[0].headers.get("retry-after"), "1");
    assert.equal(results.filter(r => r.status === 200).length, 2);
  } finally {
    small.stop();
  }
});

test("errors: 429 at the end, rejected key, bad request, timeout, malformed, no key", async () => {
  fake.received.length = 0;
  fake.script.push({ status: 429, headers: { "retry-after": "7" }, body: openaiError("Rate limit reached", "requests", "rate_limit_exceeded") });
  const limited = await ask({ provider: "noretry" });
  assert.equal(limited.status, 429);
  assert.equal(limited.json.error.code, "rate_limited");
  assert.equal(limited.json.error.retry_after, 7);
  assert.equal(limited.headers.get("retry-after"), "7");
  assert.equal(fake.received.length, 1);

  fake.script.push({ status: 401, body: openaiError("Incorrect API key provided: sk-te***.", "invalid_request_error", "invalid_api_key") });
  const rejected = await ask();
  assert.equal(rejected.status, 502);
  assert.match(rejected.json.error.message, /rejected the credentials \(HTTP 401\)/);
  assert.ok(!JSON.stringify(rejected.json).includes(KEY));

  fake.received.length = 0;
  fake.script.push({ status: 400, body: openaiError("This model's maximum context length is 128000 tokens.", "invalid_request_error", "context_length_exceeded") });
  const bad = await ask();
  assert.equal(bad.status, 502);
  assert.match(bad.json.error.message, /maximum context length/);
  assert.equal(fake.received.length, 1);  // a 400 is not retried

  fake.script.push({ hang: 3000 });
  const slow = await ask();
  assert.equal(slow.status, 504);
  assert.equal(slow.json.error.code, "provider_timeout");

  fake.script.push({ status: 200, raw: '{"id":"x","choices":[' });
  const malformed = await ask();
  assert.equal(malformed.status, 502);
  assert.match(malformed.json.error.message, /malformed/);

  const nokey = await ask({ provider: "nokey" });
  assert.equal(nokey.status, 503);
  assert.match(nokey.json.error.message, /no API key/);

  // The server still serves.
  fake.script.push({ status: 200, body: completion("still here") });
  assert.equal((await ask()).json.output_text, "still here");
});

test("streaming: deltas as they come, then done; a retry before the first byte; a cut stream", async () => {
  fake.received.length = 0;
  fake.script.push({ status: 429, headers: { "retry-after-ms": "10" }, body: openaiError("Rate limit reached", "requests", "rate_limit_exceeded") });
  fake.script.push({ sse: openaiStream(["Hola", ", ", "mundo."]) });
  const r = await ask({ stream: true, context: { query: "facturacion" } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^text\/event-stream/);
  const events = parseSse(r.text);
  assert.deepEqual(events.slice(0, 3).map(e => [e.event, e.data.text]),
    [["delta", "Hola"], ["delta", ", "], ["delta", "mundo."]]);
  assert.equal(events.length, 4);
  assert.equal(events[3].event, "done");
  assert.equal(events[3].data.output_text, "Hola, mundo.");
  assert.equal(events[3].data.stop_reason, "stop");
  assert.deepEqual(events[3].data.usage, { input_tokens: 40, output_tokens: 6 });
  assert.equal(fake.received.length, 2);
  const body = JSON.parse(fake.received[1].body);
  assert.equal(body.stream, true);
  // The selected context reached the prompt, bob's unshared one did not.
  assert.match(body.messages[0].content, /migración de facturación el lunes/);
  assert.ok(!fake.received[1].body.includes("secreta"));
  assert.equal(events[3].data.context_ids.length, 1);
  assert.deepEqual(body.stream_options, { include_usage: true });

  // Cut in the middle: the deltas sent stay sent, then one error event; never retried.
  fake.received.length = 0;
  fake.script.push({ sse: openaiStream(["partial"], { done: false }), cut: true });
  const cut = parseSse((await ask({ stream: true })).text);
  assert.deepEqual(cut.map(e => e.event), ["delta", "error"]);
  assert.equal(cut[1].data.error.code, "provider_error");
  assert.ok(cut[1].data.error.request_id);
  assert.equal(fake.received.length, 1);

  // An error inside the stream.
  fake.script.push({ sse: openaiStream(["a"], { done: false }).split("\n\n")[0] + "\n\n" +
    `data: ${JSON.stringify(openaiError("The server had an error while processing", "server_error", null))}\n\n` });
  const failed = parseSse((await ask({ stream: true })).text);
  assert.equal(failed.at(-1).event, "error");
  assert.match(failed.at(-1).data.error.message, /had an error while processing/);

  // An error before any byte is a plain JSON error, not a stream.
  fake.script.push({ status: 401, body: openaiError("Incorrect API key provided", "invalid_request_error", "invalid_api_key") });
  const early = await ask({ stream: true, provider: "noretry" });
  assert.equal(early.status, 200);  // the stream had begun (the request was valid)
  const early_events = parseSse(early.text);
  assert.equal(early_events[0].event, "error");
  assert.match(early_events[0].data.error.message, /rejected the credentials/);
});
