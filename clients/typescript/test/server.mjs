// A real `ctxmgr serve` for the client tests: SQLite in a temporary folder, or PostgreSQL
// (CTXMGR_TEST_PG_DSN) in a schema of its own; trust or token mode (an admin made with the CLI
// first); port 0, read from the log. CTXMGR_BIN and CTXMGR_PLUGIN_DIR come from ctest.

import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listeningPort } from "../../../tests/support/listening_port.mjs";

const bin = process.env.CTXMGR_BIN;
const pluginDir = process.env.CTXMGR_PLUGIN_DIR;
if (!bin || !pluginDir) throw new Error("CTXMGR_BIN and CTXMGR_PLUGIN_DIR must be set");
export const pgDsn = process.env.CTXMGR_TEST_PG_DSN;
export const backends = ["sqlite", ...(pgDsn ? ["postgres"] : [])];

export async function startServer({ backend = "sqlite", auth = "trust", providers = "[{plugin: offline}]" } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "ctxmgr-tsclient-"));
  const config = join(dir, "ctxmgr.yaml");
  const storage = backend === "sqlite"
    ? `{plugin: sqlite, options: {path: ${join(dir, "context.db")}}}`
    : `{plugin: postgres, options: {url: '${pgDsn}', schema: tsc_${randomUUID().replace(/-/g, "").slice(0, 12)}}}`;
  writeFileSync(config,
    `plugins: {search_paths: [${pluginDir}]}\nservice: {auth: ${auth}}\n` +
    `storage: ${storage}\n` +
    "selectors: [{plugin: keyword}, {plugin: priority}, {plugin: recency}]\n" +
    `providers: ${providers}\n` +
    `transports: [{plugin: http, options: {listen: "127.0.0.1:0"}}]\n`);
  const adminToken = auth === "token"
    ? execFileSync(bin, ["--config", config, "agent", "create", "root", "--role", "admin"]).toString().trim().split("\n")[0]
    : undefined;
  const child = spawn(bin, ["--config", config, "serve"], { stdio: ["ignore", "ignore", "pipe"] });
  const port = await listeningPort(child);
  child.stderr.resume();
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    adminToken,
    stop() {
      child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
