// The server-run memory loop (docs/memory-tool.md): POST /api/agent/{id}/process with
// "memory": true against fake Anthropic and OpenAI servers playing a scripted sequence of tool
// calls (view, create, str_replace, view). The native memory tool for Anthropic, a function tool
// for OpenAI; every command run on the agent's memory files; the results sent back in each
// protocol's shape; a model that never stops (memory.max_steps); a tool call with bad input;
// streaming of the final text only; the process event naming every command.
//   node --test tests/providers/memory_loop.test.mjs   (CTXMGR_BIN and CTXMGR_PLUGIN_DIR set by ctest)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startFakeProvider, message, completion, toolUse, toolCalls, parseSse } from "./fake_providers.mjs";
import { startServer } from "./server.mjs";

let anthropic, openai, server;
before(async () => {
  anthropic = await startFakeProvider();
  openai = await startFakeProvider();
  server = await startServer(
    `  - {plugin: anthropic, options: {api_key: sk-ant-test, base_url: "${anthropic.root}", max_retries: 0}}\n` +
    `  - {plugin: openai, options: {api_key: sk-test, base_url: "${openai.url}", max_retries: 0}}\n` +
    `  - {plugin: offline}`,
    {}, "", "memory: {max_steps: 4}\n");
});
after(async () => { server.stop(); await anthropic.close(); await openai.close(); });

const ask = (agent, extra) => server.api("POST", `/api/agent/${agent}/process`, agent,
  { messages: [{ role: "user", content: "Remember that I like green tea." }], memory: true, ...extra });
// The audit log as the admin sees it (trust mode: a request without X-Agent-Id).
const processEvents = async agent =>
  (await (await fetch(`${server.url}/api/audit?agent_id=${agent}&action=process`)).json()).items;
const files = async agent =>
  (await server.api("GET", `/api/agent/${agent}/contexts?path_prefix=/memories`, agent)).json.items;

test("anthropic: the native tool, a scripted session, results as tool_result blocks", async () => {
  anthropic.received.length = 0;
  anthropic.script.push({ body: toolUse([["tu_1", { command: "view", path: "/memories" }]], { text: "Let me look." }) });
  anthropic.script.push({ body: toolUse([["tu_2", { command: "create", path: "/memories/prefs.md", file_text: "tea\n" }]]) });
  anthropic.script.push({ body: toolUse([["tu_3", { command: "str_replace", path: "/memories/prefs.md", old_str: "tea", new_str: "green tea" }],
                                         ["tu_4", { command: "view", path: "/memories/prefs.md" }]]) });
  anthropic.script.push({ body: message(["Noted: green tea."]) });
  const r = await ask("ana", { provider: "anthropic" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.output_text, "Noted: green tea.");
  assert.deepEqual(r.json.memory, [
    { command: "view", path: "/memories", is_error: false },
    { command: "create", path: "/memories/prefs.md", is_error: false },
    { command: "str_replace", path: "/memories/prefs.md", is_error: false },
    { command: "view", path: "/memories/prefs.md", is_error: false }]);
  assert.deepEqual(r.json.usage, { input_tokens: 10 * 3 + 21, output_tokens: 2 * 3 + 5 });
  assert.equal(anthropic.received.length, 4);
  const first = JSON.parse(anthropic.received[0].body);
  assert.deepEqual(first.tools, [{ type: "memory_20250818", name: "memory" }]);
  const last = JSON.parse(anthropic.received[3].body);
  // user, then per round the assistant's blocks and the user's tool_result blocks.
  assert.equal(last.messages.length, 1 + 2 * 3);
  assert.deepEqual(last.messages[1].content[0], { type: "text", text: "Let me look." });
  assert.deepEqual(last.messages[1].content[1], { type: "tool_use", id: "tu_1", name: "memory", input: { command: "view", path: "/memories" } });
  assert.equal(last.messages[2].role, "user");
  assert.equal(last.messages[2].content[0].type, "tool_result");
  assert.equal(last.messages[2].content[0].tool_use_id, "tu_1");
  assert.match(last.messages[2].content[0].content, /^Here're the files and directories up to 2 levels deep in \/memories/);
  const results = last.messages[6].content;
  assert.equal(results.length, 2);
  assert.equal(results[1].tool_use_id, "tu_4");
  assert.equal(results[1].content, "Here's the content of /memories/prefs.md with line numbers:\n     1\tgreen tea\n     2\t");
  const [file] = await files("ana");
  assert.equal(file.context_data.text, "green tea\n");
  assert.equal(file.version, 2);
  assert.equal(file.updated_by, "ana");
  // One process event names every command.
  const events = await processEvents("ana");
  assert.deepEqual(events[0].details.memory.map(m => m.command), ["view", "create", "str_replace", "view"]);
});

test("openai: a function tool, results as tool messages; bad input is a tool error", async () => {
  openai.received.length = 0;
  openai.script.push({ body: toolCalls([["call_1", { command: "create", path: "/memories/../etc", file_text: "x" }],
                                         ["call_2", "{not json"]]) });
  openai.script.push({ body: toolCalls([["call_3", { command: "create", path: "/memories/a.md", file_text: "one" }]]) });
  openai.script.push({ body: completion("done") });
  const r = await ask("bo", { provider: "openai" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.output_text, "done");
  assert.deepEqual(r.json.memory.map(m => m.is_error), [true, true, false]);
  const first = JSON.parse(openai.received[0].body);
  assert.equal(first.tools[0].type, "function");
  assert.equal(first.tools[0].function.name, "memory");
  assert.deepEqual(first.tools[0].function.parameters.properties.command.enum,
    ["view", "create", "str_replace", "insert", "delete", "rename"]);
  const second = JSON.parse(openai.received[1].body);
  const n = second.messages.length;
  assert.equal(second.messages[n - 3].role, "assistant");
  assert.equal(second.messages[n - 3].tool_calls[1].function.arguments, "{not json");
  assert.deepEqual(second.messages[n - 2], { role: "tool", tool_call_id: "call_1",
    content: "Path /memories/../etc would escape /memories directory" });
  assert.equal(second.messages[n - 1].tool_call_id, "call_2");
  assert.match(second.messages[n - 1].content, /^Error: /);
  assert.deepEqual((await files("bo")).map(f => f.metadata.path), ["/memories/a.md"]);
});

test("a model that never stops ends at memory.max_steps with an error; what ran is kept", async () => {
  for (let i = 0; i < 4; i++) {
    anthropic.script.push({ body: toolUse([[`loop_${i}`, { command: "create", path: `/memories/n${i}.md`, file_text: "x" }]]) });
  }
  const r = await ask("cy", { provider: "anthropic" });
  assert.equal(r.status, 502, r.text);
  assert.match(r.json.error.message, /still calling tools after 4 model calls \(memory.max_steps\)/);
  // Three rounds ran; the fourth answer's call was not.
  assert.deepEqual((await files("cy")).map(f => f.metadata.path),
    ["/memories/n0.md", "/memories/n1.md", "/memories/n2.md"]);
  const events = await processEvents("cy");
  assert.equal(events[0].details.error, "provider_error");
  assert.equal(events[0].details.memory.length, 3);
});

test("streaming: tool turns are not streamed, the final text is", async () => {
  anthropic.script.push({ body: toolUse([["s1", { command: "view", path: "/memories" }]], { text: "checking" }) });
  anthropic.script.push({ body: message(["All ", "set."]) });
  const r = await ask("di", { provider: "anthropic", stream: true });
  assert.equal(r.status, 200);
  const events = parseSse(r.text);
  assert.deepEqual(events.map(e => e.event), ["delta", "done"]);
  assert.equal(events[0].data.text, "All set.");
  assert.equal(events[1].data.memory.length, 1);
});

test("a provider without tools is refused before anything runs", async () => {
  const r = await ask("ed", { provider: "offline" });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /cannot run tools/);
  const bad = await server.api("POST", "/api/agent/ed/process", "ed",
    { messages: [{ role: "user", content: "x" }], memory: "yes" });
  assert.equal(bad.status, 400);
});
