// Health: readiness and the main metrics (GET /readyz, GET /metrics), refreshed every few seconds,
// each with a small chart of its recent values. Charts are SVG made with the DOM (no inline
// script or style, as the page's Content-Security-Policy wants).

import { text } from "./api.js";
import { h } from "./dom.js";

const EVERY_MS = 3000;
const KEEP = 40;  // samples per chart

// Prometheus text -> [{name, labels, value}].
export function parseMetrics(body) {
  const out = [];
  for (const line of body.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    for (const l of (m[3] || "").matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

const sum = (ms, name, keep = () => true) => ms.filter((m) => m.name === name && keep(m.labels)).reduce((a, m) => a + m.value, 0);

// A quantile of a histogram summed over every series, from its cumulative buckets.
function quantile(ms, name, q) {
  const buckets = new Map();
  for (const m of ms) {
    if (m.name !== `${name}_bucket`) continue;
    const le = m.labels.le === "+Inf" ? Infinity : Number(m.labels.le);
    buckets.set(le, (buckets.get(le) || 0) + m.value);
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.length ? sorted[sorted.length - 1][1] : 0;
  if (total === 0) return null;
  const want = q * total;
  for (const [le, n] of sorted) if (n >= want) return le;
  return null;
}

function spark(values) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${KEEP} 20`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-hidden", "true");
  const finite = values.filter((v) => Number.isFinite(v));
  const max = Math.max(...finite, 1e-9);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "#1f4e79");
  line.setAttribute("stroke-width", "0.6");
  line.setAttribute("points", values.map((v, i) => `${i},${20 - (Number.isFinite(v) ? (v / max) * 18 : 0) - 1}`).join(" "));
  svg.append(line);
  return svg;
}

const CHARTS = [
  { id: "requests", title: "Requests per second", unit: "/s", rate: true, read: (ms) => sum(ms, "ctxmgr_http_requests_total") },
  { id: "errors", title: "Server errors per second", unit: "/s", rate: true, read: (ms) => sum(ms, "ctxmgr_http_requests_total", (l) => (l.status || "").startsWith("5")) },
  { id: "p50", title: "Latency p50", unit: " ms", read: (ms) => 1000 * (quantile(ms, "ctxmgr_http_request_duration_seconds", 0.5) ?? NaN) },
  { id: "p99", title: "Latency p99", unit: " ms", read: (ms) => 1000 * (quantile(ms, "ctxmgr_http_request_duration_seconds", 0.99) ?? NaN) },
  { id: "seal", title: "Seconds since the last audit seal", unit: " s", read: (ms) => {
      const at = sum(ms, "ctxmgr_audit_last_seal_timestamp_seconds");
      return at > 0 ? Date.now() / 1000 - at : NaN;
    } },
  { id: "pg-pool", title: "PostgreSQL connections in use", unit: "", optional: "ctxmgr_postgres_pool_connections",
    read: (ms) => sum(ms, "ctxmgr_postgres_pool_connections", (l) => l.state === "in_use") },
  { id: "sqlite-readers", title: "SQLite readers in use", unit: "", optional: "ctxmgr_sqlite_readers",
    read: (ms) => sum(ms, "ctxmgr_sqlite_readers", (l) => l.state === "in_use") },
  { id: "storage-wait", title: "Storage wait p99 (pool or writer)", unit: " ms",
    read: (ms) => 1000 * (quantile(ms, "ctxmgr_postgres_pool_wait_seconds", 0.99) ?? quantile(ms, "ctxmgr_sqlite_writer_wait_seconds", 0.99) ?? NaN) },
  { id: "audit-queue", title: "Read audit events waiting", unit: "", optional: "ctxmgr_audit_read_queue",
    read: (ms) => sum(ms, "ctxmgr_audit_read_queue") },
  { id: "streams", title: "Open event streams", unit: "", read: (ms) => sum(ms, "ctxmgr_event_streams") },
  { id: "embedding", title: "Embedding backlog", unit: " contexts", optional: "ctxmgr_embedding_backlog", read: (ms) => sum(ms, "ctxmgr_embedding_backlog") },
];

export async function healthView(onLeave) {
  const ready = h("p", { id: "ready", "aria-live": "polite" }, "Checking…");
  const cards = new Map();
  const grid = h("div", { class: "charts" });
  for (const c of CHARTS) {
    const value = h("div", { class: "value" }, "—");
    const chart = h("div", { class: "chart", id: `chart-${c.id}` }, h("div", {}, c.title), value);
    chart.append(spark([]));
    cards.set(c.id, { chart, value, samples: [], last: null });
    grid.append(chart);
  }
  const refresh = async () => {
    try {
      const r = await fetch("/readyz");
      const body = await r.json().catch(() => ({}));
      ready.className = r.ok ? "ok" : "bad";
      ready.textContent = r.ok ? "Ready" : `Not ready: ${(body.error && body.error.message) || r.status}`;
    } catch (e) {
      ready.className = "bad";
      ready.textContent = `Not reachable: ${e.message}`;
    }
    let ms;
    try { ms = parseMetrics(await text("/metrics")); } catch { return; }
    const now = Date.now();
    for (const c of CHARTS) {
      const card = cards.get(c.id);
      if (c.optional && !ms.some((m) => m.name === c.optional)) {
        card.chart.hidden = true;
        continue;
      }
      let v = c.read(ms);
      if (c.rate) {
        const prev = card.last;
        card.last = { at: now, v };
        v = prev ? (v - prev.v) / ((now - prev.at) / 1000) : NaN;
      }
      card.samples.push(v);
      if (card.samples.length > KEEP) card.samples.shift();
      const shown = Number.isInteger(v) ? String(v) : Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 0) : null;
      card.value.textContent = shown === null ? "—" : `${shown}${c.unit}`;
      card.chart.lastChild.replaceWith(spark(card.samples));
    }
  };
  await refresh();
  const timer = setInterval(refresh, EVERY_MS);
  onLeave(() => clearInterval(timer));
  return h("section", {}, h("h1", {}, "Health"), ready, grid,
    h("p", { class: "muted" }, `From /readyz and /metrics, every ${EVERY_MS / 1000} s.`));
}
