// `ctxmgr serve` for the provider tests: its own folder, config and free port, SQLite, the three
// selectors, reads audited, and the providers given as YAML list items.

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listeningPort } from "../support/listening_port.mjs";

const bin = process.env.CTXMGR_BIN;
const pluginDir = process.env.CTXMGR_PLUGIN_DIR;
if (!bin || !pluginDir) throw new Error("CTXMGR_BIN and CTXMGR_PLUGIN_DIR must be set");

// `http`: more transport-http options, as YAML flow-mapping entries ("provider_queue: 1");
// `extra`: more top-level YAML (an `embedder:`); `storage`: the `storage:` mapping's YAML
// instead of SQLite in the server's folder (PostgreSQL for the tests that share one database).
export async function startServer(providers, env = {}, http = "", extra = "", storage = "") {
  const dir = mkdtempSync(join(tmpdir(), "ctxmgr-provider-"));
  writeFileSync(join(dir, "ctxmgr.yaml"),
    `plugins: {search_paths: [${pluginDir}]}\naudit: {reads: sync}\n` +
    `selectors: [{plugin: keyword}, {plugin: priority}, {plugin: recency}]\n` +
    `providers:\n${providers}\n` +
    `storage: ${storage || `{plugin: sqlite, options: {path: ${join(dir, "context.db")}}}`}\n` +
    `transports: [{plugin: http, options: {listen: "127.0.0.1:0"${http ? ", " + http : ""}}}]\n` +
    extra);
  const child = spawn(bin, ["--config", join(dir, "ctxmgr.yaml"), "serve"],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
  let log = "";
  child.stderr.on("data", d => { log += d; });
  const port = await listeningPort(child);
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break; } catch {}
    await new Promise(r => setTimeout(r, 25));
  }
  const api = async (method, path, agent, body) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method,
      headers: { "Content-Type": "application/json", "X-Agent-Id": agent },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    const sse = (r.headers.get("content-type") ?? "").startsWith("text/event-stream");
    // A body-less answer (204) has no JSON.
    return { status: r.status, headers: r.headers, text, json: sse || text === "" ? undefined : JSON.parse(text) };
  };
  return { dir, api, url: `http://127.0.0.1:${port}`, log: () => log, stop: () => { child.kill("SIGTERM"); rmSync(dir, { recursive: true, force: true }); } };
}

