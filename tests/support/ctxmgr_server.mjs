// `ctxmgr serve` for the Node tests (MCP, providers, console, the TypeScript client): a folder and
// a config of its own, SQLite in that folder unless `storage` says otherwise, port 0 read from the
// log (listening_port.mjs), and in token mode the agents made with the CLI before the start.
// CTXMGR_BIN and CTXMGR_PLUGIN_DIR come from ctest.
//
//   const s = await startCtxmgr({ auth: "token", agents: [["root", "admin"], ["bob"]] });
//   fetch(`${s.baseUrl}/api/me`, { headers: { Authorization: `Bearer ${s.tokens.bob}` } });
//   s.stop();

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listeningPort } from "./listening_port.mjs";

export const bin = process.env.CTXMGR_BIN;
export const pluginDir = process.env.CTXMGR_PLUGIN_DIR;
if (!bin || !pluginDir) throw new Error("CTXMGR_BIN and CTXMGR_PLUGIN_DIR must be set");

const KEYWORD_SELECTORS = "[{plugin: keyword}, {plugin: priority}, {plugin: recency}]";

// Options, all optional:
//   auth        "trust" (default) or "token"
//   agents      token mode: [[id, role?], ...] made with `ctxmgr agent create`; tokens by id
//   storage     the `storage:` mapping's YAML (default: SQLite in the server's folder)
//   providers   the `providers:` value's YAML (a flow list, or block items starting "\n  - ")
//   selectors   the `selectors:` value's YAML (default: keyword, priority, recency)
//   http        more transport-http options, as flow-mapping entries ("mcp_max_sessions: 2")
//   extra       more top-level YAML ("audit: {reads: batch}\n")
//   env         more environment for the server
//   prefix      the temporary folder's name prefix
export async function startCtxmgr(options = {}) {
  const { auth = "trust", agents = [], storage, providers, selectors = KEYWORD_SELECTORS,
          http = "", extra = "", env = {}, prefix = "ctxmgr-test-" } = options;
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const config = join(dir, "ctxmgr.yaml");
  writeFileSync(config,
    `plugins: {search_paths: [${pluginDir}]}\nservice: {auth: ${auth}}\n` +
    `storage: ${storage ?? `{plugin: sqlite, options: {path: ${join(dir, "context.db")}}}`}\n` +
    `selectors: ${selectors}\n` +
    (providers === undefined ? "" : `providers: ${providers}\n`) +
    `transports: [{plugin: http, options: {listen: "127.0.0.1:0"${http ? ", " + http : ""}}}]\n` +
    extra);
  const tokens = {};
  if (auth === "token") {
    for (const [id, role] of agents) {
      const args = ["--config", config, "agent", "create", id, ...(role ? ["--role", role] : [])];
      tokens[id] = execFileSync(bin, args).toString().trim().split("\n")[0];
    }
  }
  const child = spawn(bin, ["--config", config, "serve"],
                      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
  let log = "";
  child.stderr.on("data", (d) => { log += d; });  // all of it, and a full pipe would stop the server
  const port = await listeningPort(child);
  return {
    dir, config, child, port, tokens,
    baseUrl: `http://127.0.0.1:${port}`,
    log: () => log,
    stop() {
      child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
