// Claude's memory tool through the real @anthropic-ai/sdk (pinned): its tool runner, with
// `betaMemoryTool(memoryToolHandlers(client, "alice"))`, against the fake Anthropic server of
// tests/providers playing a scripted memory session, and a real ctxmgr server keeping the files.
// The model's mistake comes back to it as an error result; every command is a version.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { betaMemoryTool } from "@anthropic-ai/sdk/helpers/beta/memory";
import { Client, memoryToolHandlers } from "../dist/index.js";
import { startFakeProvider, message, toolUse } from "../../../tests/providers/fake_providers.mjs";
import { startServer } from "./server.mjs";

let server, fake, ctx;
before(async () => {
  server = await startServer();
  fake = await startFakeProvider();
  ctx = new Client({ baseUrl: server.baseUrl, agentId: "alice" });
});
after(async () => { server.stop(); await fake.close(); });

test("the SDK's tool runner keeps Claude's memory in Context Manager", async () => {
  fake.script.push({ body: toolUse([["tu_1", { command: "view", path: "/memories" }]]) });
  fake.script.push({ body: toolUse([["tu_2", { command: "create", path: "/memories/prefs.md", file_text: "tea\n" }]]) });
  fake.script.push({ body: toolUse([["tu_3", { command: "str_replace", path: "/memories/prefs.md", old_str: "coffee", new_str: "x" }]]) });
  fake.script.push({ body: toolUse([["tu_4", { command: "str_replace", path: "/memories/prefs.md", old_str: "tea", new_str: "green tea" }]]) });
  fake.script.push({ body: message(["Noted: green tea."]) });
  const anthropic = new Anthropic({ apiKey: "sk-ant-test", baseURL: fake.root, maxRetries: 0 });
  const final = await anthropic.beta.messages.toolRunner({
    model: "claude-fake-1", max_tokens: 256,
    messages: [{ role: "user", content: "Remember that I like green tea." }],
    tools: [betaMemoryTool(memoryToolHandlers(ctx, "alice"))],
  });
  assert.equal(final.content[0].text, "Noted: green tea.");
  assert.equal(fake.received.length, 5);
  // The SDK declared the native tool, and sent each command's answer back as a tool_result
  // (in whichever requests it chose: this SDK continues a thread with the new messages only).
  const bodies = fake.received.map((r) => JSON.parse(r.body));
  assert.deepEqual(bodies[0].tools, [{ type: "memory_20250818", name: "memory" }]);
  const results = bodies.flatMap((b) => b.messages)
    .filter((m) => m.role === "user" && Array.isArray(m.content))
    .flatMap((m) => m.content).filter((b) => b.type === "tool_result");
  assert.deepEqual(results.map((r) => r.tool_use_id), ["tu_1", "tu_2", "tu_3", "tu_4"]);
  const text = (r) => (typeof r.content === "string" ? r.content : r.content.map((b) => b.text).join(""));
  assert.match(text(results[1]), /created/i);
  assert.equal(results[2].is_error, true);  // old_str absent: the model's mistake
  assert.match(text(results[2]), /coffee/);
  assert.notEqual(results[3].is_error, true);
  // The file is a context of alice, at its third version: create, then the one replacement.
  const files = await ctx.listContexts("alice", { pathPrefix: "/memories/" });
  assert.equal(files.items.length, 1);
  assert.equal(files.items[0].metadata.path, "/memories/prefs.md");
  assert.deepEqual(files.items[0].context_data, { text: "green tea\n" });
  assert.equal(files.items[0].version, 2);
});
