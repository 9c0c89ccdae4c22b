// The operator's console (docs/console.md) in a real browser: Debian's chromium driven by
// playwright-core against `ctxmgr serve`, in trust mode (loopback, no sign-in) and in token mode
// (an admin and an agent without rights). Every page is opened by its deep link and by clicking,
// checked with axe-core (no serious or critical violation), and saved as a screenshot under
// $CONSOLE_SCREENSHOTS. Any request to a host other than the server fails the test.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startCtxmgr } from "../support/ctxmgr_server.mjs";

const shots = process.env.CONSOLE_SCREENSHOTS || join(tmpdir(), "ctxmgr-console-screenshots");
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

// The server as config/ctxmgr.yaml ships it where it matters here: reads audited in batches.
async function startServer(auth, httpOptions = "") {
  const s = await startCtxmgr({
    auth, prefix: "ctxmgr-console-", http: httpOptions.replace(/^, /, ""),
    extra: "audit: {reads: batch}\n",
    agents: [["root", "admin"], ["alice", "agent"], ["bob", "agent"]],
  });
  return { ...s, base: s.baseUrl };
}

function stopServer(s) {
  s.stop();
}

// A REST call as `who`: an agent id in trust mode, a token in token mode.
async function call(server, who, method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (server.tokens[who]) headers.Authorization = `Bearer ${server.tokens[who]}`;
  else headers["X-Agent-Id"] = who;
  const res = await fetch(server.base + path, { method, headers, body: body && JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// alice's context with two versions, and a selection that found it.
async function seed(server) {
  const made = await call(server, "alice", "POST", "/api/context", {
    agent_id: "alice", context_data: { plan: "ship the billing report on monday" },
    metadata: { priority: "high", tags: ["billing"] } });
  await call(server, "alice", "PATCH", `/api/context/${made.id}`, { context_data: { plan: "ship the billing report on friday" } });
  const picked = await call(server, "alice", "POST", "/api/agent/alice/select", { query: "billing report", token_budget: 4000 });
  assert.equal(picked.items.length, 1);
  // Two contexts that match, and a budget for one of them: the other is cut.
  const other = await call(server, "alice", "POST", "/api/context", {
    agent_id: "alice", context_data: { plan: "billing report follow-up for the board" } });
  const tight = await call(server, "alice", "POST", "/api/agent/alice/select", { query: "billing report", token_budget: 100 });
  assert.equal(tight.items.length, 1);
  assert.equal(tight.truncated, true);
  const cut = tight.items[0].context.id === made.id ? other.id : made.id;
  return { id: made.id, selection: picked.selection_id, tight: tight.selection_id, cut };
}

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(async () => { await browser?.close(); });

// A page whose every request outside the server is recorded and refused; axe may be injected
// (bypassCSP lets the test add it; the page itself loads nothing but its own files).
async function openPage(server) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
  const page = await context.newPage();
  const foreign = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(server.base + "/") || url.startsWith("data:")) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  // Layout shifts (Cumulative Layout Shift, as Chromium measures it) from the page's start.
  await page.addInitScript(() => {
    window.__shift = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shift += e.value;
    }).observe({ type: "layout-shift", buffered: true });
  });
  return { context, page, foreign, problems };
}

async function accessible(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`), [], `${name}: accessibility`);
}

// No more than a small layout shift while the page's data loaded (0.1 is "good" for CLS).
async function steady(page, name) {
  const shift = await page.evaluate(() => window.__shift);
  assert.ok(shift <= 0.1, `${name}: layout shift ${shift}`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

test("trust mode: agents, a context's versions, a revert, the audit, a selection's reasons, health", async () => {
  const server = await startServer("trust");
  try {
    const { id, selection, tight, cut } = await seed(server);
    const { context, page, foreign, problems } = await openPage(server);
    // Agents: loopback trust mode opens as the admin.
    await page.goto(server.base + "/console/");
    await page.getByRole("heading", { name: "Agents" }).waitFor();
    assert.match(await page.locator("#who").innerText(), /admin/);
    const row = page.getByRole("row", { name: /alice/ });
    assert.match(await row.innerText(), /\b2\b/);  // two contexts
    await accessible(page, "agents");
    await steady(page, "agents");
    await shot(page, "trust-agents");
    // By keyboard alone: the skip link comes first, and Tab reaches the agent's link.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
    let reached = false;
    for (let i = 0; i < 40 && !reached; ++i) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(() => document.activeElement.textContent === "alice");
    }
    assert.ok(reached, "Tab never reached alice's link");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Agent alice" }).waitFor();
    await page.goBack();
    await page.getByRole("heading", { name: "Agents" }).waitFor();
    // An agent, by clicking.
    await page.getByRole("link", { name: "alice" }).click();
    await page.getByRole("heading", { name: "Agent alice" }).waitFor();
    assert.equal(new URL(page.url()).pathname, "/console/agents/alice");
    await accessible(page, "agent");
    await shot(page, "trust-agent");
    // A context: its two versions compared, line by line.
    await page.getByRole("link", { name: id }).first().click();
    await page.getByRole("heading", { name: `Context ${id}` }).waitFor();
    assert.match(await page.locator("#diff .del").allInnerTexts().then((t) => t.join("\n")), /monday/);
    assert.match(await page.locator("#diff .add").allInnerTexts().then((t) => t.join("\n")), /friday/);
    await accessible(page, "context");
    await steady(page, "context");
    await shot(page, "trust-context");
    // Revert to version 1: a third version with version 1's content.
    await page.getByRole("button", { name: "Revert to version 1" }).click();
    await page.getByRole("cell", { name: "revert", exact: true }).waitFor();
    const now = await call(server, "alice", "GET", `/api/context/${id}`);
    assert.equal(now.version, 3);
    assert.equal(now.context_data.plan, "ship the billing report on monday");
    // The deep link survives a reload, and another pair of versions is compared.
    await page.goto(`${server.base}/console/contexts/${id}?from=2&to=3`);
    await page.locator("#diff .add").first().waitFor();
    assert.match(await page.locator("#diff .add").allInnerTexts().then((t) => t.join("\n")), /monday/);
    // The audit log, with the chain's state said plainly.
    await page.getByRole("link", { name: "Audit" }).click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    await page.locator("#chain").waitFor();
    assert.match(await page.locator("#chain").innerText(), /Chain verified/);
    assert.match(await page.locator("table").innerText(), /revert/);
    await accessible(page, "audit");
    await shot(page, "trust-audit");
    // Filtered by action, through the form.
    await page.getByLabel("Action").fill("revert");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/action=revert/);
    await page.waitForFunction(() => [...document.querySelectorAll("tbody tr")].every((r) => /revert/.test(r.textContent)));
    assert.equal(await page.locator("tbody tr").count(), 1);
    // A selection's reasons: every score component of the context it chose.
    await page.goto(`${server.base}/console/selections/${selection}`);
    await page.getByRole("heading", { name: `Selection ${selection}` }).waitFor();
    const reasons = await page.locator("table").first().innerText();
    assert.match(reasons, new RegExp(id));
    assert.match(reasons, /keyword/);
    assert.match(await page.locator("dl").innerText(), /billing report/);
    await accessible(page, "selection");
    await shot(page, "trust-selection");
    // What the budget left out is named too.
    await page.goto(`${server.base}/console/selections/${tight}`);
    await page.getByRole("heading", { name: "Left out by the token budget" }).waitFor();
    assert.match(await page.locator("table").nth(1).innerText(), new RegExp(cut));
    await shot(page, "trust-selection-cut");
    // Health.
    await page.getByRole("link", { name: "Health" }).click();
    await page.locator("#ready.ok").waitFor();
    await page.locator("#chart-requests .value").waitFor();
    // The storage's own chart: SQLite here, so its readers and not a PostgreSQL pool.
    assert.match(await page.locator("#chart-sqlite-readers .value").innerText(), /^\d+$/);
    assert.equal(await page.locator("#chart-pg-pool").isVisible(), false);
    // The writes waited for SQLite's writer; reads are audited in batches by default.
    assert.match(await page.locator("#chart-storage-wait .value").innerText(), /^[\d.]+ ms$/);
    assert.match(await page.locator("#chart-audit-queue .value").innerText(), /^\d+$/);
    await accessible(page, "health");
    await shot(page, "trust-health");
    // A phone's width: still one column and readable.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.base}/console/contexts/${id}`);
    await page.getByRole("heading", { name: `Context ${id}` }).waitFor();
    await shot(page, "trust-context-phone");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page is ${overflow}px wider than a phone`);
    assert.deepEqual(foreign, [], "requests to other hosts");
    assert.deepEqual(problems, [], "errors in the page");
    await context.close();
  } finally {
    stopServer(server);
  }
});

test("token mode: sign-in, an admin sees everyone, an agent without rights only its own", async () => {
  const server = await startServer("token");
  try {
    const { id } = await seed(server);
    await call(server, "bob", "POST", "/api/context", { agent_id: "bob", context_data: { mine: true } });
    const { context, page, foreign, problems } = await openPage(server);
    await page.goto(server.base + "/console/");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await accessible(page, "sign-in");
    await shot(page, "token-sign-in");
    // A wrong token is refused with the API's message.
    await page.getByLabel("Token").fill("ctxm_wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").waitFor();
    assert.match(await page.getByRole("alert").innerText(), /refused/);
    // bob sees his own page only.
    await page.getByLabel("Token").fill(server.tokens.bob);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Agent bob" }).waitFor();
    assert.equal(new URL(page.url()).pathname, "/console/agents/bob");
    assert.match(await page.locator("dl.facts").innerText(), /Role\s+agent\s+Registered\s+\d/);
    assert.equal(await page.locator("tbody").first().locator("tr").count(), 1);
    // alice's contexts are not his to see: the list is empty, the context is refused.
    await page.goto(server.base + "/console/agents/alice");
    await page.getByRole("heading", { name: "Agent alice" }).waitFor();
    assert.doesNotMatch(await page.locator("main").innerText(), new RegExp(id));
    await page.goto(`${server.base}/console/contexts/${id}`);
    await page.getByRole("alert").waitFor();
    assert.match(await page.getByRole("alert").innerText(), /(403|404).*request id/s);
    // The token stays in this tab only: a new tab (context) starts signed out.
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    // Once alice shares it, bob's page lists it under what he received, and it opens.
    await call(server, "alice", "POST", `/api/context/${id}/grants`, { agent_id: "bob", permission: "read" });
    await page.goto(server.base + "/console/agents/bob");
    const received = page.getByRole("table", { name: "Shared with bob" });
    await received.waitFor();
    assert.match(await received.innerText(), /alice/);
    await shot(page, "token-agent-received");
    await received.getByRole("link", { name: `context ${id}` }).click();
    await page.getByRole("heading", { name: new RegExp(id) }).waitFor();
    await accessible(page, "received-grants");
    // The admin sees every agent.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByLabel("Token").fill(server.tokens.root);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Agents" }).waitFor();
    const agents = await page.locator("table").innerText();
    for (const a of ["alice", "bob", "root"]) assert.match(agents, new RegExp(a));
    await shot(page, "token-agents-admin");
    // Agents come a page of 50 at a time: with 50 more ("a-00"… sort first), alice moves to the
    // next page, reached through "More agents", with her last activity.
    for (let i = 0; i < 50; ++i) {
      await call(server, "root", "POST", "/api/agents", { agent_id: `a-${String(i).padStart(2, "0")}` });
    }
    await page.goto(server.base + "/console/");
    await page.getByRole("link", { name: "a-49" }).waitFor();
    assert.equal(await page.getByRole("link", { name: "alice" }).count(), 0);
    await page.getByRole("link", { name: "More agents" }).click();
    const alice = page.getByRole("row", { name: /alice/ });
    await alice.waitFor();
    assert.match(await alice.innerText(), /\d{4}/);  // a date: her last audit event
    assert.equal(await page.getByRole("link", { name: "More agents" }).count(), 0);
    assert.deepEqual(foreign, [], "requests to other hosts");
    assert.deepEqual(problems, [], "errors in the page");
    await context.close();
  } finally {
    stopServer(server);
  }
});

test("the console's files: their headers, deep links, refusals, and the option that turns it off", async () => {
  const server = await startServer("trust");
  const off = await startServer("trust", ", console: false");
  try {
    const page = await fetch(server.base + "/console/contexts/anything");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type"), /text\/html/);
    const csp = page.headers.get("content-security-policy");
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    assert.equal(page.headers.get("x-frame-options"), "DENY");
    // Everything the page loads is its own.
    const html = await page.text();
    for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      assert.ok(m[1].startsWith("/console/") || m[1].startsWith("#"), `the page loads ${m[1]}`);
    }
    const script = await fetch(server.base + "/console/assets/app.js");
    assert.match(script.headers.get("content-type"), /text\/javascript/);
    const bare = await fetch(server.base + "/console", { redirect: "manual" });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get("location"), "/console/");
    assert.equal((await fetch(server.base + "/console/assets/missing.js")).status, 404);
    const post = await fetch(server.base + "/console/", { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    assert.equal((await fetch(off.base + "/console/")).status, 404);
  } finally {
    stopServer(server);
    stopServer(off);
  }
});
