// The operator's console (docs/console.md): one page that reads its path and shows agents,
// contexts, the audit log, selections and health through the public API only.

import { api, ApiError, get, query, session, text } from "./api.js";
import { lineDiff, stableJson } from "./diff.js";
import { facts, h, json, link, table, when } from "./dom.js";
import { healthView } from "./health.js";

const view = document.getElementById("view");
const errorBox = document.getElementById("error");
let me = null;  // {agent_id, role, auth_mode} once signed in
let stopView = null;  // what the current view must stop when left (health's refresh)

function showError(e) {
  if (!e) { errorBox.hidden = true; errorBox.textContent = ""; return; }
  errorBox.hidden = false;
  errorBox.replaceChildren(
    h("strong", {}, e instanceof ApiError ? `${e.status} ${e.code}: ` : "Error: "),
    e.message,
    e.requestId ? h("span", { class: "muted" }, ` (request id ${e.requestId})`) : null);
}

// Runs a change, reports its failure, and shows the page again after it.
async function act(fn) {
  try {
    showError(null);
    await fn();
    await render();
  } catch (e) {
    showError(e);
  }
}

// ---- sign-in ----------------------------------------------------------------------------------

async function whoAmI() {
  try {
    me = await get("/api/me");
  } catch (e) {
    me = null;
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
  }
  const who = document.getElementById("who");
  who.replaceChildren();
  if (!me) return;
  who.append(
    `${me.agent_id} (${me.role}, ${me.auth_mode} mode) `,
    h("button", { class: "secondary", type: "button", onclick: () => { session.signOut(); location.assign("/console/"); } },
      me.auth_mode === "token" ? "Sign out" : "Reset"));
}

function signInView() {
  const token = h("input", { id: "token", type: "password", autocomplete: "off", required: true, size: 40 });
  return h("section", {},
    h("h1", {}, "Sign in"),
    h("p", {}, "This server checks tokens. Paste an agent's or an admin's token; it stays in this tab only."),
    h("form", {
      class: "inline",
      onsubmit: async (ev) => {
        ev.preventDefault();
        session.signIn(token.value.trim());
        await start();
      },
    }, h("label", { for: "token" }, "Token", token), h("button", { type: "submit" }, "Sign in")));
}

// Trust mode (loopback only): act as the admin, or as one agent to see what it sees.
function actAsForm() {
  if (!me || me.auth_mode !== "trust") return null;
  const agent = h("input", { id: "act-as", value: session.agent(), placeholder: "admin", size: 20 });
  return h("form", {
    class: "inline",
    onsubmit: async (ev) => {
      ev.preventDefault();
      session.actAs(agent.value.trim());
      await start();
    },
  }, h("label", { for: "act-as" }, "Act as agent (trust mode)", agent), h("button", { type: "submit", class: "secondary" }, "Switch"));
}

// ---- agents -----------------------------------------------------------------------------------

const AGENTS_PER_PAGE = 50;

// Every registered agent's id: the ones on this page and, when this is not the first page, the
// earlier pages' (read again, a page at a time), so an unregistered owner is told apart.
async function allAgentIds(onThisPage, cursor) {
  const ids = new Set(onThisPage);
  if (!cursor) return ids;
  for (let c = ""; ;) {
    const p = await get(`/api/agents${query({ limit: 1000, cursor: c })}`);
    p.items.forEach((a) => ids.add(a.agent_id));
    if (!p.next_cursor) return ids;
    c = p.next_cursor;
  }
}

async function agentsView() {
  if (me.role !== "admin") {
    history.replaceState(null, "", `/console/agents/${encodeURIComponent(me.agent_id)}`);
    return agentView(me.agent_id);
  }
  // A page of registered agents at a time; each row's last activity is its newest audit event.
  const cursor = new URLSearchParams(location.search).get("cursor") || "";
  const [agents, stats] = await Promise.all([get(`/api/agents${query({ limit: AGENTS_PER_PAGE, cursor })}`), get("/api/stats")]);
  const counts = new Map((stats.contexts_per_agent || []).map((c) => [c.agent_id, c.contexts]));
  const rows = agents.items.map((a) => ({ ...a, contexts: counts.get(a.agent_id) || 0, registered: true }));
  // Trust mode: agents that own contexts without being registered, after the last page.
  if (!agents.next_cursor) {
    const registered = new Set(rows.map((r) => r.agent_id));
    const all = await allAgentIds(registered, cursor);
    for (const [id, n] of counts) if (!all.has(id)) rows.push({ agent_id: id, contexts: n, registered: false });
  }
  const last = await Promise.all(rows.map((r) =>
    get(`/api/audit${query({ agent_id: r.agent_id, limit: 1 })}`).then((p) => p.items[0]?.at).catch(() => null)));
  rows.forEach((r, i) => { r.last = last[i]; });
  const id = h("input", { id: "new-agent", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", size: 20 });
  const role = h("select", { id: "new-role" }, h("option", { value: "agent" }, "agent"), h("option", { value: "admin" }, "admin"));
  const shown = h("div", { "aria-live": "polite" });
  return h("section", {},
    h("h1", {}, "Agents"),
    actAsForm(),
    table([
      { title: "Agent", cell: (r) => link(`/console/agents/${encodeURIComponent(r.agent_id)}`, r.agent_id) },
      { title: "Role", cell: (r) => r.registered ? r.role : "not registered" },
      { title: "Contexts", cell: (r) => String(r.contexts) },
      { title: "Last activity", cell: (r) => when(r.last) },
      { title: "Disabled", cell: (r) => (r.disabled ? "yes" : "no"), narrow: true },
    ], rows, "Agents and their contexts"),
    agents.next_cursor ? h("p", {}, link(`/console/${query({ cursor: agents.next_cursor })}`, "More agents")) : null,
    h("h2", {}, "Register an agent"),
    h("form", {
      class: "inline",
      onsubmit: (ev) => {
        ev.preventDefault();
        act(async () => {
          const made = await api("POST", "/api/agents", { agent_id: id.value.trim(), role: role.value });
          sessionStorage.setItem("ctxmgr.console.shown", `Token of ${made.agent.agent_id} (shown once): ${made.token}`);
        });
      },
    }, h("label", { for: "new-agent" }, "Agent id", id), h("label", { for: "new-role" }, "Role", role), h("button", { type: "submit" }, "Register")),
    shown);
}

// A token shown once after the change that made it (the page is drawn again after a change).
function shownOnce() {
  const t = sessionStorage.getItem("ctxmgr.console.shown");
  if (!t) return null;
  sessionStorage.removeItem("ctxmgr.console.shown");
  return h("p", { class: "notice mono", role: "status" }, t);
}

function contextRowsTree(rows) {
  // Memory files (metadata.path under /memories/) as a folder tree.
  const root = {};
  for (const r of rows) {
    const p = r.metadata && r.metadata.path;
    if (typeof p !== "string") continue;
    let node = root;
    const parts = p.split("/").filter(Boolean);
    parts.forEach((part, i) => {
      node[part] = node[part] || (i === parts.length - 1 ? { __ctx: r.id } : {});
      node = node[part];
    });
  }
  const walk = (node) => h("ul", {}, Object.keys(node).filter((k) => k !== "__ctx").sort().map((k) =>
    h("li", {}, node[k].__ctx ? link(`/console/contexts/${node[k].__ctx}`, k) : k + "/", walk(node[k]))));
  return Object.keys(root).length ? h("div", { class: "tree" }, walk(root)) : null;
}

async function agentView(agentId) {
  const params = new URLSearchParams(location.search);
  const filters = { tag: params.get("tag") || "", include_deleted: params.get("include_deleted") === "true" ? "true" : "", priority: params.get("priority") || "" };
  const [agent, page, grants, received, selections] = await Promise.all([
    get(`/api/agents/${encodeURIComponent(agentId)}`).then((r) => r.agent).catch((e) => (e.status === 404 || e.status === 403 ? null : Promise.reject(e))),
    get(`/api/agent/${encodeURIComponent(agentId)}/contexts${query({ limit: 200, tag: filters.tag, include_deleted: filters.include_deleted })}`),
    get(`/api/agent/${encodeURIComponent(agentId)}/grants`).catch(() => ({ items: [] })),
    get(`/api/agent/${encodeURIComponent(agentId)}/received-grants?limit=200`).catch(() => ({ items: [] })),
    get(`/api/agent/${encodeURIComponent(agentId)}/selections?limit=20`).catch(() => ({ items: [] })),
  ]);
  const rows = page.items.filter((c) => !filters.priority || (c.metadata && c.metadata.priority) === filters.priority);
  const tag = h("input", { id: "f-tag", value: filters.tag, size: 12 });
  const prio = h("select", { id: "f-prio" }, ["", "high", "medium", "low"].map((p) => h("option", { value: p, selected: p === filters.priority }, p || "any")));
  const deleted = h("input", { id: "f-del", type: "checkbox", checked: filters.include_deleted === "true" });
  const q = h("input", { id: "search", type: "search", required: true, size: 30 });
  const found = h("div", { "aria-live": "polite" });
  return h("section", {},
    h("h1", {}, `Agent ${agentId}`),
    shownOnce(),
    agent ? facts([["Role", agent.role], ["Registered", when(agent.created_at)], ["Disabled", agent.disabled ? "yes" : "no"]])
          : h("p", { class: "muted" }, "Not a registered agent (trust mode)."),
    agent ? h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => act(async () => {
        const t = await api("POST", `/api/agents/${encodeURIComponent(agentId)}/token`);
        sessionStorage.setItem("ctxmgr.console.shown", `New token of ${agentId} (shown once): ${t.token}`);
      }) }, "Rotate token"),
      me.role === "admin" && !agent.disabled
        ? h("button", { type: "button", class: "danger", onclick: () => act(() => api("DELETE", `/api/agents/${encodeURIComponent(agentId)}`)) }, "Disable")
        : null) : null,
    h("h2", {}, "Search"),
    h("form", {
      class: "inline", role: "search",
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          showError(null);
          const r = await api("POST", `/api/agent/${encodeURIComponent(agentId)}/select`, { query: q.value });
          found.replaceChildren(
            h("p", {}, link(`/console/selections/${r.selection_id}`, `Selection ${r.selection_id}`), ` — ${r.items.length} context(s), ${r.total_tokens} tokens${r.truncated ? ", cut by the budget" : ""}`),
            table([
              { title: "Context", cell: (i) => link(`/console/contexts/${i.context.id}`, i.context.id) },
              { title: "Score", cell: (i) => i.score.toFixed(3) },
              { title: "Components", cell: (i) => Object.entries(i.scores).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", ") },
            ], r.items));
        } catch (e) { showError(e); }
      },
    }, h("label", { for: "search" }, "Query", q), h("button", { type: "submit" }, "Search")),
    found,
    h("h2", {}, "Contexts"),
    h("form", {
      class: "inline",
      onsubmit: (ev) => {
        ev.preventDefault();
        navigate(`/console/agents/${encodeURIComponent(agentId)}${query({ tag: tag.value, priority: prio.value, include_deleted: deleted.checked ? "true" : "" })}`);
      },
    }, h("label", { for: "f-tag" }, "Tag", tag), h("label", { for: "f-prio" }, "Priority", prio),
       h("label", { for: "f-del" }, "Deleted too", deleted), h("button", { type: "submit", class: "secondary" }, "Filter")),
    table([
      { title: "Context", cell: (c) => link(`/console/contexts/${c.id}`, c.id) },
      { title: "Version", cell: (c) => String(c.version) },
      { title: "Priority", cell: (c) => (c.metadata && c.metadata.priority) || "—", narrow: true },
      { title: "Tags", cell: (c) => ((c.metadata && c.metadata.tags) || []).join(", "), narrow: true },
      { title: "Updated", cell: (c) => when(c.updated_at) },
      { title: "Deleted", cell: (c) => (c.deleted ? "yes" : ""), narrow: true },
    ], rows, `Contexts of ${agentId} you may read`),
    (() => { const t = contextRowsTree(rows); return t ? [h("h2", {}, "Memory files"), t] : null; })(),
    h("h2", {}, "Grants given"),
    table([
      { title: "To", cell: (g) => g.agent_id },
      { title: "Permission", cell: (g) => g.permission },
      { title: "Since", cell: (g) => when(g.granted_at) },
    ], grants.items, `Every context of ${agentId} shared with`),
    h("h2", {}, "Grants received"),
    table([
      { title: "Shares", cell: (g) => (g.scope === "context"
        ? link(`/console/contexts/${g.context_id}`, `context ${g.context_id}`)
        : link(`/console/agents/${encodeURIComponent(g.owner_id)}`, `every context of ${g.owner_id}`)) },
      { title: "Owner", cell: (g) => g.owner_id, narrow: true },
      { title: "Permission", cell: (g) => g.permission },
      { title: "By", cell: (g) => g.granted_by, narrow: true },
      { title: "Since", cell: (g) => when(g.granted_at) },
    ], received.items, `Shared with ${agentId}`),
    h("h2", {}, "Recent selections"),
    table([
      { title: "Selection", cell: (s) => link(`/console/selections/${s.id}`, String(s.id)) },
      { title: "Query", cell: (s) => s.query },
      { title: "At", cell: (s) => when(s.at) },
    ], selections.items));
}

// ---- a context --------------------------------------------------------------------------------

async function contextView(id) {
  const [ctx, hist, grants] = await Promise.all([
    get(`/api/context/${id}`),
    get(`/api/context/${id}/history?limit=1000`),
    get(`/api/context/${id}/grants`).catch(() => null),
  ]);
  const versions = hist.items;  // newest first
  const params = new URLSearchParams(location.search);
  const pick = (name, fallback) => {
    const v = Number(params.get(name));
    return versions.some((x) => x.version === v) ? v : fallback;
  };
  const newest = versions[0]?.version;
  const from = pick("from", versions[1]?.version ?? newest);
  const to = pick("to", newest);
  const render = (v) => {
    const x = versions.find((y) => y.version === v);
    return x ? stableJson({ context_data: x.context_data, metadata: x.metadata }) : "";
  };
  const choose = (name, selected) => h("select", { id: `diff-${name}`, name }, versions.map((v) => h("option", { value: v.version, selected: v.version === selected }, `version ${v.version}`)));
  const a = choose("from", from);
  const b = choose("to", to);
  return h("section", {},
    h("h1", {}, `Context ${id}`),
    facts([["Owner", link(`/console/agents/${encodeURIComponent(ctx.agent_id)}`, ctx.agent_id)], ["Version", String(ctx.version)],
      ["Updated", when(ctx.updated_at)], ["Updated by", ctx.updated_by || "—"], ["Deleted", ctx.deleted ? "yes" : "no"]]),
    h("div", { class: "actions" },
      !ctx.deleted ? h("button", { type: "button", class: "danger", onclick: () => act(() => api("DELETE", `/api/context/${id}`)) }, "Delete") : null),
    h("div", { class: "grid" },
      h("div", {}, h("h2", {}, "Content"), json(ctx.context_data)),
      h("div", {}, h("h2", {}, "Metadata"), json(ctx.metadata))),
    h("h2", {}, "Compare versions"),
    h("form", {
      class: "inline",
      onsubmit: (ev) => { ev.preventDefault(); navigate(`/console/contexts/${id}${query({ from: a.value, to: b.value })}`); },
    }, h("label", { for: "diff-from" }, "From", a), h("label", { for: "diff-to" }, "To", b), h("button", { type: "submit", class: "secondary" }, "Compare")),
    h("ul", { class: "diff", id: "diff", "aria-label": `Changes from version ${from} to version ${to}` },
      lineDiff(render(from), render(to)).map((d) => h("li", { class: d.kind }, d.line))),
    h("h2", {}, "Versions"),
    table([
      { title: "Version", cell: (v) => String(v.version) },
      { title: "Change", cell: (v) => v.action },
      { title: "By", cell: (v) => v.agent_id },
      { title: "At", cell: (v) => when(v.at) },
      { title: "", cell: (v) => v.version === ctx.version ? "current" : h("button", {
        type: "button", class: "secondary", "aria-label": `Revert to version ${v.version}`,
        onclick: () => act(() => api("POST", `/api/context/${id}/revert`, { version: v.version })),
      }, "Revert to this") },
    ], versions),
    grants ? [h("h2", {}, "Grants"), table([
      { title: "To", cell: (g) => g.agent_id },
      { title: "Permission", cell: (g) => g.permission },
      { title: "By", cell: (g) => g.granted_by },
    ], grants.items)] : null);
}

// ---- audit ------------------------------------------------------------------------------------

async function auditView() {
  const params = new URLSearchParams(location.search);
  const f = Object.fromEntries(["agent_id", "context_id", "action", "since", "until", "cursor"].map((k) => [k, params.get(k) || ""]));
  const [page, verify] = await Promise.all([
    get(`/api/audit${query({ ...f, limit: 50 })}`),
    get("/api/audit/verify").catch((e) => ({ error: e })),
  ]);
  const input = (k, label, type = "text") => h("label", { for: `a-${k}` }, label, h("input", { id: `a-${k}`, name: k, type, value: f[k], size: 14 }));
  const form = h("form", {
    class: "inline",
    onsubmit: (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      navigate(`/console/audit${query(Object.fromEntries(data.entries()))}`);
    },
  }, input("agent_id", "Agent"), input("context_id", "Context"), input("action", "Action"), input("since", "Since (RFC 3339)"), input("until", "Until"), h("button", { type: "submit", class: "secondary" }, "Filter"));
  const chain = verify.error
    ? h("p", { class: "muted" }, `Chain not checked: ${verify.error.message}`)
    : verify.ok
      ? h("p", { class: "ok", id: "chain" }, `Chain verified: ${verify.checked} events checked, sealed through ${verify.sealed_through}.`)
      : h("p", { class: "bad", id: "chain" }, `Chain broken at event ${verify.first_bad} (${verify.checked} checked).`);
  return h("section", {},
    h("h1", {}, "Audit log"),
    chain,
    form,
    table([
      { title: "Seq", cell: (e) => String(e.seq) },
      { title: "At", cell: (e) => when(e.at) },
      { title: "Agent", cell: (e) => e.agent_id },
      { title: "Action", cell: (e) => e.action },
      { title: "Context", cell: (e) => e.context_id ? link(`/console/contexts/${e.context_id}`, e.context_id.slice(0, 8) + "…") : "—" },
      { title: "Details", cell: (e) => e.details && e.details.selection_id !== undefined
          ? link(`/console/selections/${e.details.selection_id}`, `selection ${e.details.selection_id}`)
          : h("code", {}, JSON.stringify(e.details || {})), narrow: true },
    ], page.items, "Newest first"),
    page.next_cursor ? h("p", {}, link(`/console/audit${query({ ...f, cursor: page.next_cursor })}`, "Older events")) : null);
}

// ---- a selection ------------------------------------------------------------------------------

async function selectionView(id) {
  const s = await get(`/api/selections/${id}`);
  const p = s.params || {};
  const components = [...new Set(s.results.flatMap((r) => Object.keys(r.scores || {})))];
  return h("section", {},
    h("h1", {}, `Selection ${id}`),
    facts([["Agent", link(`/console/agents/${encodeURIComponent(s.agent_id)}`, s.agent_id)], ["At", when(s.at)], ["Query", s.query], ["Selector", s.selector],
      ["Words", (p.words || []).join(", ") || "—"], ["Translations", (p.translations || []).join(", ") || "—"],
      ["Weights", p.weights ? Object.entries(p.weights).map(([k, v]) => `${k} ${v}`).join(", ") : "—"],
      ["Candidates", String(p.candidates ?? "—")], ["Budget", p.token_budget ? `${p.total_tokens ?? "?"} of ${p.token_budget} tokens` : "none"],
      ["Cut by the budget", p.truncated ? "yes: contexts past the budget were left out" : "no"]]),
    h("h2", {}, "Why each context was chosen"),
    table([
      { title: "Context", cell: (r) => r.id ? link(`/console/contexts/${r.id}`, r.id) : "—" },
      { title: "Version", cell: (r) => String(r.version ?? "—"), narrow: true },
      { title: "Score", cell: (r) => typeof r.score === "number" ? r.score.toFixed(3) : "—" },
      ...components.map((c) => ({ title: c, cell: (r) => r.scores && typeof r.scores[c] === "number" ? r.scores[c].toFixed(3) : "—" })),
      { title: "Tokens", cell: (r) => String(r.tokens ?? "—") },
    ], s.results, "Chosen contexts with every score component"),
    (p.cut_by_budget || []).length ? [
      h("h2", {}, "Left out by the token budget"),
      table([
        { title: "Context", cell: (r) => link(`/console/contexts/${r.id}`, r.id) },
        { title: "Score", cell: (r) => r.score.toFixed(3) },
        { title: "Tokens", cell: (r) => String(r.tokens) },
      ], p.cut_by_budget, "Ranked high enough, but past the budget"),
    ] : null,
    h("h2", {}, "Parameters"),
    json(p));
}

// ---- routing ----------------------------------------------------------------------------------

const routes = [
  [/^\/console\/?$/, () => agentsView()],
  [/^\/console\/agents\/([^/]+)$/, (m) => agentView(decodeURIComponent(m[1]))],
  [/^\/console\/contexts\/([0-9a-f-]{36})$/, (m) => contextView(m[1])],
  [/^\/console\/audit$/, () => auditView()],
  [/^\/console\/selections\/(\d+)$/, (m) => selectionView(m[1])],
  [/^\/console\/health$/, () => healthView((stop) => { stopView = stop; })],
];

async function render() {
  if (stopView) { stopView(); stopView = null; }
  const path = location.pathname;
  for (const a of document.querySelectorAll("[data-nav]")) {
    const mine = (a.dataset.nav === "agents" && (path === "/console/" || path.startsWith("/console/agents"))) || path.startsWith(`/console/${a.dataset.nav}`);
    if (mine) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  if (!me) { view.replaceChildren(signInView()); return; }
  const found = routes.map(([re, fn]) => [path.match(re), fn]).find(([m]) => m);
  try {
    const el = found ? await found[1](found[0]) : h("section", {}, h("h1", {}, "Not found"), h("p", {}, "No console page at ", path));
    view.replaceChildren(el);
    document.title = `${view.querySelector("h1")?.textContent || "Console"} — Context Manager`;
  } catch (e) {
    showError(e);
    view.replaceChildren(h("p", { class: "muted" }, "This page could not be loaded."));
  }
}

function navigate(href) {
  history.pushState(null, "", href);
  showError(null);
  render().then(() => view.focus());
}

document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a");
  if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith("/console")) return;
  ev.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener("popstate", () => render());

async function start() {
  try {
    showError(null);
    await whoAmI();
    if (!me && session.token()) {
      session.signOut();
      showError(new ApiError(401, "unauthenticated", "that token was refused", ""));
    }
  } catch (e) {
    showError(e);
  }
  await render();
}

start();
