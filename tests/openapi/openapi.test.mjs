// docs/openapi.json against the server: the document served at /api/openapi.json is the file;
// every documented operation reaches a route of the server (never "no route", never 405); and
// every route the HTTP router has (its `route = "…"` labels in http_router.cpp) is reached by a
// documented operation, seen in the server's own request metrics.
//   node --test tests/openapi/openapi.test.mjs   (CTXMGR_BIN, CTXMGR_PLUGIN_DIR, CTXMGR_SOURCE_DIR)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const bin = process.env.CTXMGR_BIN;
const pluginDir = process.env.CTXMGR_PLUGIN_DIR;
const source = process.env.CTXMGR_SOURCE_DIR;
assert.ok(bin && pluginDir && source, "CTXMGR_BIN, CTXMGR_PLUGIN_DIR and CTXMGR_SOURCE_DIR must be set");
const documented = JSON.parse(readFileSync(join(source, "docs/openapi.json"), "utf8"));

let dir, child, base;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ctxmgr-openapi-"));
  const port = await new Promise(resolve => {
    const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
  writeFileSync(join(dir, "ctxmgr.yaml"),
    `plugins: {search_paths: [${pluginDir}]}\n` +
    `selectors: [{plugin: keyword}]\nproviders: [{plugin: offline}]\n` +
    `storage: {plugin: sqlite, options: {path: ${join(dir, "context.db")}}}\n` +
    `transports: [{plugin: http, options: {listen: "127.0.0.1:${port}"}}]\n`);
  child = spawn(bin, ["--config", join(dir, "ctxmgr.yaml"), "serve"], { stdio: "ignore" });
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
      const text = await r.text();
      assert.notEqual(r.status, 405, `${method} ${path}: 405`);
      assert.ok(!text.includes("no route for"), `${method} ${path}: the server has no such route`);
    }
  }
  assert.ok(operations >= 30, `only ${operations} operations documented`);
  // What the router knows, from its source; what was reached, from its metrics.
  const router = readFileSync(join(source, "plugins/transport-http/http_router.cpp"), "utf8");
  const routes = new Set([...router.matchAll(/route = ([^;]+);/g)]
    .flatMap(m => [...m[1].matchAll(/"([a-z_]+)"/g)].map(q => q[1])));
  routes.delete("unknown");
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const reached = new Set([...metrics.matchAll(/ctxmgr_http_requests_total\{route="([a-z_]+)"/g)].map(m => m[1]));
  const undocumented = [...routes].filter(r => !reached.has(r));
  assert.deepEqual(undocumented, [], "routes no documented operation reaches");
  assert.ok(routes.size >= 20);
});
