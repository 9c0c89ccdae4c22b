// The console's one way to the server: the public REST API (docs/API.md), same origin, with the
// identity the user signed in as. A token lives in this tab's session storage only and goes out
// as a bearer header; in trust mode (loopback) an optional agent id goes out as X-Agent-Id.

const TOKEN = "ctxmgr.console.token";
const AGENT = "ctxmgr.console.agent";

export const session = {
  token: () => sessionStorage.getItem(TOKEN) || "",
  agent: () => sessionStorage.getItem(AGENT) || "",
  signIn(token) { sessionStorage.setItem(TOKEN, token); },
  actAs(agent) {
    if (agent) sessionStorage.setItem(AGENT, agent);
    else sessionStorage.removeItem(AGENT);
  },
  signOut() { sessionStorage.removeItem(TOKEN); sessionStorage.removeItem(AGENT); },
};

// An answer the API refused: its message and request id, as the error body of API.md says.
export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

function headers(extra) {
  const h = { Accept: "application/json", ...extra };
  if (session.token()) h.Authorization = "Bearer " + session.token();
  else if (session.agent()) h["X-Agent-Id"] = session.agent();
  return h;
}

// JSON in, JSON out; 204 gives null. Throws ApiError.
export async function api(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  const requestId = res.headers.get("X-Request-Id") || "";
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const e = data && data.error ? data.error : {};
    throw new ApiError(res.status, e.code || String(res.status),
                       e.message || text || res.statusText, e.request_id || requestId);
  }
  return data;
}

export const get = (path) => api("GET", path);

// Plain text (GET /metrics).
export async function text(path) {
  const res = await fetch(path, { headers: headers({ Accept: "text/plain" }) });
  if (!res.ok) throw new ApiError(res.status, String(res.status), res.statusText, res.headers.get("X-Request-Id") || "");
  return res.text();
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? "?" + s : "";
}
