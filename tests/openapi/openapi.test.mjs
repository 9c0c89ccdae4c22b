// docs/openapi.json against the server: the document served at /api/openapi.json is the file;
// every documented operation reaches a route of the server (never "no route", never 405); every
// route of the HTTP router's table (plugins/transport-http/http_routes.cpp) is reached by a
// documented operation, seen in the server's own request metrics; and path by path the table's
// methods, as its 405 answers list them, are the documented ones.
//   node --test tests/openapi/openapi.test.mjs   (CTXMGR_BIN, CTXMGR_PLUGIN_DIR, CTXMGR_SOURCE_DIR)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listeningPort } from "../support/listening_port.mjs";

const bin = process.env.CTXMGR_BIN;
const pluginDir = process.env.CTXMGR_PLUGIN_DIR;
const source = process.env.CTXMGR_SOURCE_DIR;
assert.ok(bin && pluginDir && source, "CTXMGR_BIN, CTXMGR_PLUGIN_DIR and CTXMGR_SOURCE_DIR must be set");
const documented = JSON.parse(readFileSync(join(source, "docs/openapi.json"), "utf8"));

let dir, child, base;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ctxmgr-openapi-"));
  writeFileSync(join(dir, "ctxmgr.yaml"),
    `plugins: {search_paths: [${pluginDir}]}\n` +
    `selectors: [{plugin: keyword}]\nproviders: [{plugin: offline}]\n` +
    `storage: {plugin: sqlite, options: {path: ${join(dir, "context.db")}}}\n` +
    `transports: [{plugin: http, options: {listen: "127.0.0.1:0"}}]\n`);
  child = spawn(bin, ["--config", join(dir, "ctxmgr.yaml"), "serve"], { stdio: ["ignore", "ignore", "pipe"] });
  const port = await listeningPort(child);
  child.stderr.resume();  // keep reading the log, or a full pipe would stop the server
  base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch {}
    await new Promise(r => setTimeout(r, 25));
  }
});
after(() => { child.kill("SIGTERM"); rmSync(dir, { recursive: true, force: true }); });

test("the served document is docs/openapi.json", async () => {
  const r = await fetch(`${base}/api/openapi.json`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), documented);
});

test("every documented operation has a route, and every route is documented", async () => {
  const sample = { id: "01936f3e-8c1a-7b2e-9f41-3c5d2a7e8b10", agent_id: "alice", grantee: "bob",
                   selection_id: "1" };
  let operations = 0;
  for (const [path, item] of Object.entries(documented.paths)) {
    for (const method of ["get", "post", "patch", "delete"]) {
      if (!item[method]) continue;
      operations++;
      const url = base + path.replace(/\{(\w+)\}/g, (_, name) => sample[name]);
      const r = await fetch(url, { method: method.toUpperCase(),
        headers: { "Content-Type": "application/json", "Accept": "application/json, text/event-stream" },
        body: method === "post" || method === "patch" ? "{}" : undefined });
      // An event stream (GET /api/events) never ends by itself: its head is enough.
      const sse = (r.headers.get("content-type") ?? "").startsWith("text/event-stream");
      const text = sse ? (await r.body.cancel(), "") : await r.text();
      assert.notEqual(r.status, 405, `${method} ${path}: 405`);
      assert.ok(!text.includes("no route for"), `${method} ${path}: the server has no such route`);
    }
  }
  assert.ok(operations >= 30, `only ${operations} operations documented`);
  // What the router knows, from its table; what was reached, from its metrics.
  const table = readFileSync(join(source, "plugins/transport-http/http_routes.cpp"), "utf8");
  const entries = [...table.matchAll(/\{"([a-z_]+)",\s*"(\/[^"]*)"/g)].map(m => ({ name: m[1], path: m[2] }));
  const routes = new Set(entries.map(e => e.name));
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const reached = new Set([...metrics.matchAll(/ctxmgr_http_requests_total\{route="([a-z_]+)"/g)].map(m => m[1]));
  const undocumented = [...routes].filter(r => !reached.has(r));
  assert.deepEqual(undocumented, [], "routes no documented operation reaches");
  // Path by path, the table's methods (read back from its 405 answers' Allow header) are the
  // documented ones, and every documented path but /mcp is in the table.
  for (const { path } of entries) {
    assert.ok(documented.paths[path], `${path} is routed but not documented`);
    const url = base + path.replace(/\{(\w+)\}/g, (_, name) => sample[name]);
    const r = await fetch(url, { method: "PUT", body: "{}" });
    await r.text();
    assert.equal(r.status, 405, `PUT ${path}`);
    const allowed = r.headers.get("allow").split(", ").filter(m => m !== "HEAD").map(m => m.toLowerCase()).sort();
    const methods = ["get", "post", "patch", "delete"].filter(m => documented.paths[path][m]).sort();
    assert.deepEqual(allowed, methods, `${path}: routed methods against documented ones`);
  }
  const routed = new Set(entries.map(e => e.path));
  const missing = Object.keys(documented.paths).filter(p => p !== "/mcp" && !routed.has(p));
  assert.deepEqual(missing, [], "documented paths the table lacks");
  assert.ok(routes.size >= 20);
});
