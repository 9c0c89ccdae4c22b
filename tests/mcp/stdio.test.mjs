// MCP over stdio with the official TypeScript SDK client (@modelcontextprotocol/sdk 1.32.2)
// against `ctxmgr mcp`: version negotiation, tools as structured content and text, operation
// failures as isError results, protocol faults as JSON-RPC errors, resources, identity from the
// environment, and the server ending when the client goes away.
//   node --test tests/mcp/stdio.test.mjs   (CTXMGR_BIN and CTXMGR_PLUGIN_DIR set by ctest)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { McpError, ResourceUpdatedNotificationSchema, ResourceListChangedNotificationSchema }
  from "@modelcontextprotocol/sdk/types.js";


// An isError result carries the REST error body as its text content.
const errorOf = result => { assert.equal(result.isError, true); return JSON.parse(result.content[0].text).error; };

const bin = process.env.CTXMGR_BIN;
const pluginDir = process.env.CTXMGR_PLUGIN_DIR;
assert.ok(bin && pluginDir, "CTXMGR_BIN and CTXMGR_PLUGIN_DIR must be set");

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "ctxmgr-mcp-"));
  writeFileSync(join(dir, "ctxmgr.yaml"),
    `plugins: {search_paths: [${pluginDir}]}\n` +
    `storage: {plugin: sqlite, options: {path: ${join(dir, "context.db")}}}\n` +
    `selectors: [{plugin: keyword}, {plugin: priority}, {plugin: recency}]\n` +
    // The configured HTTP transport must stay off in `ctxmgr mcp`.
    `transports: [{plugin: http, options: {listen: "127.0.0.1:1"}}]\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function connect(env = {}) {
  const transport = new StdioClientTransport({
    command: bin, args: ["--config", join(dir, "ctxmgr.yaml"), "mcp"],
    env: { ...process.env, ...env }, stderr: "pipe",
  });
  const client = new Client({ name: "ctxmgr-test", version: "0.0.1" });
  await client.connect(transport);
  return { client, transport };
}

test("initialize, tools and the whole context lifecycle", async () => {
  const { client } = await connect({ CTXMGR_AGENT: "mi_agente" });
  assert.equal(client.getServerVersion().name, "context-manager");
  assert.ok(client.getServerCapabilities().tools);
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map(t => t.name).sort(), ["context_create", "context_delete",
    "context_get", "context_history", "context_list", "context_revert", "context_select",
    "context_update", "memory"]);
  for (const t of tools) {
    assert.equal(t.inputSchema.type, "object");
    assert.equal(t.outputSchema.type, "object");  // the SDK client validates results against it
  }

  const created = await client.callTool({ name: "context_create", arguments: {
    agent_id: "mi_agente", context_data: { "información": "valor", n: 1.5 },
    metadata: { priority: "high" } } });
  assert.equal(created.isError ?? false, false);
  const ctx = created.structuredContent;
  assert.equal(ctx.version, 1);
  assert.equal(ctx.created_by, "mi_agente");  // identity from CTXMGR_AGENT
  assert.deepEqual(JSON.parse(created.content[0].text), ctx);
  assert.match(created.content[0].text, /"context_data":\{"información":"valor","n":1.5\}/);

  const updated = await client.callTool({ name: "context_update",
    arguments: { id: ctx.id, context_data: { key: "new_value" }, if_match: 1 } });
  assert.equal(updated.structuredContent.version, 2);
  const stale = await client.callTool({ name: "context_update",
    arguments: { id: ctx.id, context_data: { key: "x" }, if_match: 1 } });
  assert.equal(stale.isError, true);
  assert.equal(errorOf(stale).code, "precondition_failed");
  assert.equal(errorOf(stale).current_version, 2);

  const old = await client.callTool({ name: "context_get", arguments: { id: ctx.id, version: 1 } });
  assert.equal(old.structuredContent.context_data.key, undefined);
  const history = await client.callTool({ name: "context_history", arguments: { id: ctx.id } });
  assert.deepEqual(history.structuredContent.items.map(i => i.action), ["update", "create"]);
  const listed = await client.callTool({ name: "context_list", arguments: { agent_id: "mi_agente" } });
  assert.equal(listed.structuredContent.items.length, 1);
  // Selection: accents and case do not matter; the answer is the REST one.
  const selected = await client.callTool({ name: "context_select",
    arguments: { agent_id: "mi_agente", query: "NEW_VALUE", limit: 5 } });
  assert.equal(selected.isError ?? false, false);
  assert.deepEqual(selected.structuredContent.items.map(i => i.context.id), [ctx.id]);
  assert.equal(selected.structuredContent.selector, "hybrid");
  assert.ok(selected.structuredContent.items[0].scores.keyword > 0);
  const none = await client.callTool({ name: "context_select",
    arguments: { agent_id: "mi_agente", query: "nothing like it" } });
  assert.deepEqual(none.structuredContent.items, []);
  const badSelect = await client.callTool({ name: "context_select",
    arguments: { agent_id: "mi_agente", query: "x", limit: 0 } });
  assert.equal(errorOf(badSelect).code, "invalid_request");

  const deleted = await client.callTool({ name: "context_delete", arguments: { id: ctx.id } });
  assert.equal(deleted.isError ?? false, false);
  const gone = await client.callTool({ name: "context_get", arguments: { id: ctx.id } });
  assert.equal(gone.isError, true);
  assert.equal(errorOf(gone).code, "not_found");
  const back = await client.callTool({ name: "context_revert", arguments: { id: ctx.id, version: 2 } });
  assert.equal(back.structuredContent.version, 4);

  // Resources: each readable context as context://{id}.
  const { resources } = await client.listResources();
  assert.deepEqual(resources.map(r => r.uri), [`context://${ctx.id}`]);
  const { resourceTemplates } = await client.listResourceTemplates();
  assert.equal(resourceTemplates[0].uriTemplate, "context://{id}");
  const read = await client.readResource({ uri: `context://${ctx.id}` });
  assert.equal(JSON.parse(read.contents[0].text).version, 4);
  await client.ping();
  await client.close();
});

test("the memory tool: the calling agent's memory files, the reference's answers", async () => {
  const { client } = await connect({ CTXMGR_AGENT: "rememberer" });
  const memory = args => client.callTool({ name: "memory", arguments: args });
  const made = await memory({ command: "create", path: "/memories/prefs.md", file_text: "tea\n" });
  assert.equal(made.isError, undefined);
  assert.equal(made.content[0].text, "File created successfully at: /memories/prefs.md");
  assert.deepEqual(made.structuredContent,
    { content: "File created successfully at: /memories/prefs.md", is_error: false });
  await memory({ command: "str_replace", path: "/memories/prefs.md", old_str: "tea", new_str: "green tea" });
  const viewed = await memory({ command: "view", path: "/memories/prefs.md" });
  assert.equal(viewed.content[0].text,
    "Here's the content of /memories/prefs.md with line numbers:\n     1\tgreen tea\n     2\t");
  // The model's mistakes are isError results with the reference's message.
  const outside = await memory({ command: "view", path: "/etc/passwd" });
  assert.equal(outside.isError, true);
  assert.equal(outside.content[0].text, "Path must start with /memories, got: /etc/passwd");
  // The file is one of the agent's contexts, versioned.
  const list = await client.callTool({ name: "context_list", arguments: { agent_id: "rememberer" } });
  const file = list.structuredContent.items[0];
  assert.equal(file.metadata.path, "/memories/prefs.md");
  assert.equal(file.version, 2);
  await client.close();
});

test("operation failures are results, protocol faults are JSON-RPC errors", async () => {
  const { client } = await connect();
  const bad = await client.callTool({ name: "context_get", arguments: { id: "not-a-uuid" } });
  assert.equal(bad.isError, true);
  assert.equal(errorOf(bad).code, "invalid_request");
  const missing = await client.callTool({ name: "context_create", arguments: { agent_id: "a" } });
  assert.equal(missing.isError, true);
  // idempotency_key: a retried create makes one context; the same key with other data is refused.
  const once = { agent_id: "a", context_data: { k: 1 }, idempotency_key: "job-7" };
  const first = await client.callTool({ name: "context_create", arguments: once });
  const retry = await client.callTool({ name: "context_create", arguments: once });
  assert.equal(first.isError ?? false, false);
  assert.equal(retry.structuredContent.id, first.structuredContent.id);
  const reused = await client.callTool({ name: "context_create",
    arguments: { ...once, context_data: { k: 2 } } });
  assert.equal(reused.isError, true);
  assert.equal(errorOf(reused).code, "conflict");
  await assert.rejects(client.callTool({ name: "no_such_tool", arguments: {} }),
    e => e instanceof McpError && e.code === -32602);
  await assert.rejects(client.readResource({ uri: "context://01936f3e-8c1a-7b2e-9f41-3c5d2a7e8b10" }),
    e => e instanceof McpError && e.code === -32002);
  await client.close();
});

test("access rules are the REST ones", async () => {
  const a = await connect({ CTXMGR_AGENT: "alice" });
  const created = await a.client.callTool({ name: "context_create",
    arguments: { agent_id: "alice", context_data: { secret: 1 } } });
  const id = created.structuredContent.id;
  const spoof = await a.client.callTool({ name: "context_create",
    arguments: { agent_id: "bob", context_data: {} } });
  assert.equal(errorOf(spoof).code, "forbidden");
  await a.client.close();
  const b = await connect({ CTXMGR_AGENT: "bob" });
  const peek = await b.client.callTool({ name: "context_get", arguments: { id } });
  assert.equal(errorOf(peek).code, "not_found");  // not shared: 404
  const theirs = await b.client.callTool({ name: "context_select",
    arguments: { agent_id: "alice", query: "secret" } });
  assert.equal(errorOf(theirs).code, "forbidden");  // only alice (or an admin) selects over hers
  const mine = await b.client.callTool({ name: "context_select",
    arguments: { agent_id: "bob", query: "secret" } });
  assert.deepEqual(mine.structuredContent.items, []);  // alice's unshared context never comes back
  await assert.rejects(b.client.readResource({ uri: `context://${id}` }),
    e => e instanceof McpError && e.code === -32002);
  await b.client.close();
});

test("resources/subscribe over stdio: updates and list changes as notifications", async () => {
  const { client } = await connect({ CTXMGR_AGENT: "watcher" });
  const updated = [];
  let listChanged = 0;
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, n => { updated.push(n.params.uri); });
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => { listChanged++; });
  const created = await client.callTool({ name: "context_create",
    arguments: { agent_id: "watcher", context_data: { v: 1 } } });
  const id = created.structuredContent.id;
  await client.subscribeResource({ uri: `context://${id}` });
  await client.callTool({ name: "context_update", arguments: { id, context_data: { v: 2 } } });
  await client.callTool({ name: "context_create", arguments: { agent_id: "watcher", context_data: {} } });
  for (let i = 0; i < 400 && (updated.length < 1 || listChanged < 1); i++) {
    await new Promise(r => setTimeout(r, 25));
  }
  assert.deepEqual(updated, [`context://${id}`]);
  assert.ok(listChanged >= 1);
  await assert.rejects(client.subscribeResource({ uri: "context://01890a5d-ac96-774b-bcce-b302099a8057" }),
    e => e instanceof McpError && e.code === -32002);
  await client.close();
});
