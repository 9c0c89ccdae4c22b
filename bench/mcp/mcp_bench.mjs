// MCP tool calls, one client, sequential: ctxmgr over stdio (`ctxmgr mcp`) and over Streamable
// HTTP (`/mcp` of `ctxmgr serve`), beside the reference memory server
// (@modelcontextprotocol/server-memory, stdio) doing the equivalent work, at 1 000 and 20 000
// stored items, in the same run. Prints a Markdown table.
//   node bench/mcp/mcp_bench.mjs CTXMGR_BIN PLUGIN_DIR WORK_DIR [SIZES...]
// Work: `get` = read one stored item by its key (context_get / open_nodes), `create` = store a
// new one (context_create / create_entities). Items are loaded beforehand: through context_create
// for ctxmgr, as the memory server's own JSONL file for it (its every write rewrites that file,
// so loading it call by call would take hours at 20 000).

import { spawn } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [bin, pluginDir, work, ...sizeArgs] = process.argv.slice(2);
const sizes = sizeArgs.length ? sizeArgs.map(Number) : [1000, 20000];
const GETS = 2000, CREATES = 500;
const here = dirname(fileURLToPath(import.meta.url));
const memoryServer = join(here, "node_modules/@modelcontextprotocol/server-memory/dist/index.js");

const freePort = () => new Promise(resolve => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const { port } = s.address(); s.close(() => resolve(port));
  });
});
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p / 100))];
const note = i => ({ title: `note ${i}`, body: `observation number ${i} about the project` });

async function timed(n, call) {
  const lat = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const r = await call(i);
    if (r.isError) throw new Error(JSON.stringify(r.content));
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  lat.sort((a, b) => a - b);
  return { rps: n / secs, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

function ctxmgrConfig(dir, port) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "ctxmgr.yaml");
  writeFileSync(file, `server: {log: {level: warn}}\nplugins: {search_paths: [${pluginDir}]}\n` +
    `storage: {plugin: sqlite, options: {path: ${join(dir, "context.db")}}}\n` +
    `transports: [{plugin: http, options: {listen: "127.0.0.1:${port}"}}]\n`);
  return file;
}

async function ctxmgrRun(client, size) {
  const ids = [];
  for (let i = 0; i < size; i++) {
    const r = await client.callTool({ name: "context_create",
      arguments: { agent_id: "bench", context_data: note(i) } });
    ids.push(r.structuredContent.id);
  }
  const get = await timed(GETS, i => client.callTool({ name: "context_get",
    arguments: { id: ids[(i * 7919) % ids.length] } }));
  const create = await timed(CREATES, i => client.callTool({ name: "context_create",
    arguments: { agent_id: "bench", context_data: note(size + i) } }));
  return { get, create };
}

async function ctxmgrStdio(size) {
  const dir = join(work, `stdio-${size}`);
  const config = ctxmgrConfig(dir, 1);
  const transport = new StdioClientTransport({ command: bin, args: ["--config", config, "mcp"],
    env: { ...process.env, CTXMGR_AGENT: "bench" }, stderr: "ignore" });
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(transport);
  try { return await ctxmgrRun(client, size); } finally { await client.close(); }
}

async function ctxmgrHttp(size) {
  const dir = join(work, `http-${size}`);
  const port = await freePort();
  const config = ctxmgrConfig(dir, port);
  const child = spawn(bin, ["--config", config, "serve"], { stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; i < 400; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break; } catch {}
    await new Promise(r => setTimeout(r, 25));
  }
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`),
    { requestInit: { headers: { "X-Agent-Id": "bench" } } });
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(transport);
  try { return await ctxmgrRun(client, size); } finally {
    await client.close();
    child.kill("SIGTERM");
  }
}

async function memory(size) {
  const dir = join(work, `memory-${size}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "memory.jsonl");
  const lines = [];
  for (let i = 0; i < size; i++) {
    lines.push(JSON.stringify({ type: "entity", name: `note ${i}`, entityType: "note",
      observations: [note(i).body] }));
  }
  writeFileSync(file, lines.join("\n") + "\n");
  const transport = new StdioClientTransport({ command: process.execPath, args: [memoryServer],
    env: { ...process.env, MEMORY_FILE_PATH: file }, stderr: "ignore" });
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(transport);
  try {
    const get = await timed(GETS, i => client.callTool({ name: "open_nodes",
      arguments: { names: [`note ${(i * 7919) % size}`] } }));
    const create = await timed(CREATES, i => client.callTool({ name: "create_entities",
      arguments: { entities: [{ name: `note ${size + i}`, entityType: "note",
        observations: [note(size + i).body] }] } }));
    return { get, create };
  } finally { await client.close(); }
}

const row = (name, size, op, r) => console.log(
  `| ${name} | ${size} | ${op} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`);
console.log("| server | items | call | calls/s | p50 ms | p99 ms |");
console.log("|---|---|---|---|---|---|");
for (const size of sizes) {
  for (const [name, run] of [["ctxmgr stdio", ctxmgrStdio], ["ctxmgr HTTP", ctxmgrHttp],
                             ["server-memory stdio", memory]]) {
    const r = await run(size);
    row(name, size, "get", r.get);
    row(name, size, "create", r.create);
  }
}
