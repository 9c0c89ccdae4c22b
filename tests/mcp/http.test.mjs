// MCP over Streamable HTTP (/mcp on the HTTP listener) with the official TypeScript SDK client
// (@modelcontextprotocol/sdk 1.32.2) against `ctxmgr serve`: sessions, tools, resources, the
// transport's rejections (Origin, session, version, method), and token authentication.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startCtxmgr } from "../support/ctxmgr_server.mjs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError }
  from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError, ResourceUpdatedNotificationSchema, ResourceListChangedNotificationSchema }
  from "@modelcontextprotocol/sdk/types.js";

// An isError result carries the REST error body as its text content.
const errorOf = result => { assert.equal(result.isError, true); return JSON.parse(result.content[0].text).error; };

async function startServer(auth, httpOptions = "") {
  const s = await startCtxmgr({ auth, prefix: "ctxmgr-mcp-http-", http: httpOptions.replace(/^, /, ""),
                                agents: [["bot"]] });
  return { ...s, token: s.tokens.bot, url: new URL(`${s.baseUrl}/mcp`) };
}

function stopServer(s) {
  s.stop();
}

async function connect(url, headers = {}) {
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
  const client = new Client({ name: "ctxmgr-test", version: "0.0.1" });
  await client.connect(transport);
  return { client, transport };
}

let trust;
before(async () => { trust = await startServer("trust"); });
after(() => stopServer(trust));

test("sessions, tools and resources over HTTP", async () => {
  const { client, transport } = await connect(trust.url, { "X-Agent-Id": "alice" });
  assert.ok(transport.sessionId, "initialize opened a session");
  const created = await client.callTool({ name: "context_create",
    arguments: { agent_id: "alice", context_data: { "información": "valor", f: 1.5 } } });
  assert.equal(created.structuredContent.created_by, "alice");
  assert.match(created.content[0].text, /"información":"valor","f":1\.5/);
  const id = created.structuredContent.id;
  const { resources } = await client.listResources();
  assert.deepEqual(resources.map(r => r.uri), [`context://${id}`]);
  const read = await client.readResource({ uri: `context://${id}` });
  assert.equal(JSON.parse(read.contents[0].text).id, id);
  const selected = await client.callTool({ name: "context_select",
    arguments: { agent_id: "alice", query: "informacion", token_budget: 1000 } });
  assert.deepEqual(selected.structuredContent.items.map(i => i.context.id), [id]);
  assert.ok(selected.structuredContent.total_tokens <= 1000);
  const spoof = await client.callTool({ name: "context_create",
    arguments: { agent_id: "bob", context_data: {} } });
  assert.equal(spoof.isError, true);
  assert.equal(errorOf(spoof).code, "forbidden");
  await transport.terminateSession();
  // The session is gone: the client (which drops its session id) is refused until it initializes.
  await assert.rejects(client.listTools(),
    e => e instanceof StreamableHTTPError && (e.code === 400 || e.code === 404));
  await client.close();
});

const waitFor = async (cond, ms = 10000) => {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise(r => setTimeout(r, 25))) {
    if (cond()) return true;
  }
  return cond();
};

test("resources/subscribe: a change made anywhere reaches the session's GET stream", async () => {
  const { client, transport } = await connect(trust.url, { "X-Agent-Id": "dora" });
  assert.deepEqual(client.getServerCapabilities().resources, { subscribe: true, listChanged: true });
  const updated = [];
  let listChanged = 0;
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, n => { updated.push(n.params.uri); });
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => { listChanged++; });
  const created = await client.callTool({ name: "context_create",
    arguments: { agent_id: "dora", context_data: { v: 1 } } });
  const uri = `context://${created.structuredContent.id}`;
  await client.subscribeResource({ uri });
  // Through REST, another transport: the feed sees every change, not only this session's.
  const patch = v => fetch(`${trust.url.origin}/api/context/${created.structuredContent.id}`, {
    method: "PATCH", headers: { "Content-Type": "application/json", "X-Agent-Id": "dora" },
    body: JSON.stringify({ context_data: { v } }) });
  assert.equal((await patch(2)).status, 200);
  assert.ok(await waitFor(() => updated.length >= 1), "no notifications/resources/updated");
  assert.deepEqual(updated, [uri]);
  await client.callTool({ name: "context_create", arguments: { agent_id: "dora", context_data: {} } });
  assert.ok(await waitFor(() => listChanged >= 1), "no notifications/resources/list_changed");
  await client.unsubscribeResource({ uri });
  assert.equal((await patch(3)).status, 200);
  await new Promise(r => setTimeout(r, 700));
  assert.deepEqual(updated, [uri], "an update after unsubscribe");
  // What cannot be read cannot be watched.
  const other = await fetch(`${trust.url.origin}/api/context`, { method: "POST",
    headers: { "Content-Type": "application/json", "X-Agent-Id": "erik" },
    body: JSON.stringify({ agent_id: "erik", context_data: {} }) });
  const hidden = `context://${(await other.json()).id}`;
  await assert.rejects(client.subscribeResource({ uri: hidden }),
    e => e instanceof McpError && e.code === -32002);
  await transport.terminateSession();
  await client.close();
});

test("the session's GET stream: its own rejections", async () => {
  const headers = { "Accept": "text/event-stream", "X-Agent-Id": "dora" };
  assert.equal((await fetch(trust.url, { headers })).status, 400);  // no session id
  const unknown = await fetch(trust.url, { headers: { ...headers, "Mcp-Session-Id": "nope" } });
  assert.equal(unknown.status, 404);
  const { transport, client } = await connect(trust.url, { "X-Agent-Id": "dora" });
  const json = await fetch(trust.url, { headers: { "Accept": "application/json", "X-Agent-Id": "dora",
    "Mcp-Session-Id": transport.sessionId } });
  assert.equal(json.status, 406);
  const foreign = await fetch(trust.url, { headers: { ...headers, "X-Agent-Id": "erik",
    "Mcp-Session-Id": transport.sessionId } });
  assert.equal(foreign.status, 404);
  const evil = await fetch(trust.url, { headers: { ...headers, Origin: "http://evil.example",
    "Mcp-Session-Id": transport.sessionId } });
  assert.equal(evil.status, 403);
  // Ending the session ends its stream.
  const stream = await fetch(trust.url, { headers: { ...headers, "Mcp-Session-Id": transport.sessionId } });
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get("content-type"), /^text\/event-stream/);
  await transport.terminateSession();
  const rest = await stream.text();  // returns: the server closed it
  assert.ok(!rest.includes("data:"), rest);
  await client.close();
});

test("the memory tool over Streamable HTTP", async () => {
  const { client } = await connect(trust.url, { "X-Agent-Id": "carla" });
  const { tools } = await client.listTools();
  assert.ok(tools.some(t => t.name === "memory"));
  const made = await client.callTool({ name: "memory",
    arguments: { command: "create", path: "/memories/notes/a.md", file_text: "x" } });
  assert.equal(made.content[0].text, "File created successfully at: /memories/notes/a.md");
  const listing = await client.callTool({ name: "memory", arguments: { command: "view", path: "/memories" } });
  assert.equal(listing.content[0].text,
    "Here're the files and directories up to 2 levels deep in /memories, excluding hidden items:\n" +
    "1B\t/memories\n1B\t/memories/notes/\n1B\t/memories/notes/a.md");
  const again = await client.callTool({ name: "memory",
    arguments: { command: "create", path: "/memories/notes/a.md", file_text: "y" } });
  assert.equal(again.isError, true);
  assert.equal(again.content[0].text, "File /memories/notes/a.md already exists");
  await client.close();
});

test("the transport's rejections", async () => {
  const init = JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } });
  const headers = { "Content-Type": "application/json", "Accept": "application/json, text/event-stream" };
  const post = (body, extra = {}) => fetch(trust.url, { method: "POST", headers: { ...headers, ...extra }, body });

  assert.equal((await post(init, { Origin: "http://evil.example" })).status, 403);
  assert.equal((await post(init, { Origin: "http://localhost:3000" })).status, 200);
  const ok = await post(init);
  assert.equal(ok.status, 200);
  const sid = ok.headers.get("mcp-session-id");
  assert.match(sid, /^[\x21-\x7e]+$/);
  const list = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
  assert.equal((await post(list)).status, 400);                                  // no session id
  assert.equal((await post(list, { "Mcp-Session-Id": "nope" })).status, 404);   // unknown session
  assert.equal((await post(list, { "Mcp-Session-Id": sid, "MCP-Protocol-Version": "1999-01-01" })).status, 400);
  const notification = JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" });
  assert.equal((await post(notification, { "Mcp-Session-Id": sid })).status, 202);
  const tools = await post(list, { "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25" });
  assert.equal(tools.status, 200);
  assert.equal((await tools.json()).result.tools.length, 9);
  assert.equal((await post("{not json", { "Mcp-Session-Id": sid })).status, 400);
  // An id JSON cannot echo (1e999 reads as infinity; found by fuzz_mcp_message) is refused with
  // a valid JSON-RPC error whose id is null.
  const inf = await post('{"jsonrpc":"2.0","id":4e999,"method":"ping"}', { "Mcp-Session-Id": sid });
  const infBody = JSON.parse(await inf.text());
  assert.equal(infBody.id, null);
  assert.equal(infBody.error.code, -32600);
  assert.equal((await post(list, { "Mcp-Session-Id": sid, "Content-Type": "text/plain" })).status, 415);
  assert.equal((await post(list, { "Mcp-Session-Id": sid, Accept: "text/html" })).status, 406);
  // A client that takes only SSE gets the answer as one `message` event.
  const sse = await post(list, { "Mcp-Session-Id": sid, Accept: "text/event-stream" });
  assert.equal(sse.status, 200);
  assert.match(sse.headers.get("content-type"), /^text\/event-stream/);
  const event = await sse.text();
  assert.match(event, /^event: message\ndata: /);
  assert.ok(event.endsWith("\n\n"));
  assert.equal(JSON.parse(event.slice(event.indexOf("data: ") + 6)).result.tools.length, 9);
  const put = await fetch(trust.url, { method: "PUT", headers: { "Mcp-Session-Id": sid } });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get("allow"), "POST, GET, DELETE");
  assert.equal((await fetch(trust.url, { method: "DELETE", headers: { "Mcp-Session-Id": sid } })).status, 200);
  assert.equal((await post(list, { "Mcp-Session-Id": sid })).status, 404);       // ended
});

test("token mode: the bearer token decides who the client is", async () => {
  const s = await startServer("token");
  try {
    const { client } = await connect(s.url, { Authorization: `Bearer ${s.token}` });
    const created = await client.callTool({ name: "context_create",
      arguments: { agent_id: "bot", context_data: { k: 1 } } });
    assert.equal(created.structuredContent.created_by, "bot");
    await client.close();
    await assert.rejects(connect(s.url), e => e instanceof StreamableHTTPError && e.code === 401);
    await assert.rejects(connect(s.url, { Authorization: "Bearer ctxm_wrong" }),
      e => e instanceof StreamableHTTPError && e.code === 401);
  } finally {
    stopServer(s);
  }
});

test("a full session table evicts the least recently used session", async () => {
  const s = await startServer("trust", ", mcp_max_sessions: 2");
  try {
    const a = await connect(s.url);
    const b = await connect(s.url);
    await a.client.listTools();                    // b is now the least recently used
    const c = await connect(s.url);                // evicts b
    await a.client.listTools();
    await c.client.listTools();
    await assert.rejects(b.client.listTools(), e => e instanceof StreamableHTTPError && e.code === 404);
  } finally {
    stopServer(s);
  }
});
