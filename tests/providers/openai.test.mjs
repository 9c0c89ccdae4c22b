// provider-openai through `ctxmgr serve` against a fake OpenAI server on loopback: the wire
// format it sends (path, Bearer key, model, messages with the context block, max tokens,
// temperature), the answer it maps back, retries (429 with retry-after then success; 500s until
// retries run out), the error mapping (401, 400, 429 at the end, timeout, malformed body, no key),
// and that only contexts the agent may read reach the provider.
//   node --test tests/providers/openai.test.mjs   (CTXMGR_BIN and CTXMGR_PLUGIN_DIR set by ctest)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeOpenAI, completion, openaiError } from "./fake_openai.mjs";

const bin = process.env.CTXMGR_BIN;
const pluginDir = process.env.CTXMGR_PLUGIN_DIR;
assert.ok(bin && pluginDir, "CTXMGR_BIN and CTXMGR_PLUGIN_DIR must be set");
const KEY = "sk-test-0123456789abcdef";

const freePort = () => new Promise(resolve => {
  const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

async function startServer(providers) {
  const dir = mkdtempSync(join(tmpdir(), "ctxmgr-openai-"));
  const port = await freePort();
  writeFileSync(join(dir, "ctxmgr.yaml"),
    `plugins: {search_paths: [${pluginDir}]}\naudit: {reads: sync}\n` +
    `selectors: [{plugin: keyword}, {plugin: priority}, {plugin: recency}]\n` +
    `providers:\n${providers}\n` +
    `storage: {plugin: sqlite, options: {path: ${join(dir, "context.db")}}}\n` +
    `transports: [{plugin: http, options: {listen: "127.0.0.1:${port}"}}]\n`);
  const child = spawn(bin, ["--config", join(dir, "ctxmgr.yaml"), "serve"],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, OPENAI_TEST_KEY: KEY } });
  let log = "";
  child.stderr.on("data", d => { log += d; });
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break; } catch {}
    await new Promise(r => setTimeout(r, 25));
  }
  const api = async (method, path, agent, body) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method,
      headers: { "Content-Type": "application/json", "X-Agent-Id": agent },
      body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, headers: r.headers, json: await r.json() };
  };
  return { dir, api, log: () => log, stop: () => { child.kill("SIGTERM"); rmSync(dir, { recursive: true, force: true }); } };
}

let fake, server;
before(async () => {
  fake = await startFakeOpenAI();
  server = await startServer(
    `  - {plugin: openai, options: {api_key: "\${OPENAI_TEST_KEY}", base_url: "${fake.url}", ` +
    `default_model: gpt-default, timeout_ms: 1500, max_retries: 2}}\n` +
    `  - {plugin: openai, name: nokey, options: {base_url: "${fake.url}"}}\n` +
    `  - {plugin: openai, name: noretry, options: {api_key: "k", base_url: "${fake.url}", max_retries: 0}}`);
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
