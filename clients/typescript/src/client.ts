// The client: every REST operation as a typed method over the platform's fetch (Node 20).

import { CtxmgrError } from "./errors.js";
import { OPERATIONS, type OperationId } from "./operations.js";
import { defaultRetry, RETRYABLE, retryDelay, type RetryPolicy } from "./retry.js";
import { sseEvents } from "./sse.js";
import type {
  Agent, AgentCreated, AuditEvent, AuditVerify, Context, ErasureReport, FeedEvent, Grant,
  HistoryItem, MemoryAnswer, MemoryCommand, Message, Metadata, Page, ProcessAnswer,
  ProcessRequest, Readiness, ReceivedGrant, Redaction, SelectAnswer, SelectionRecord, SelectRequest, Stats,
  Token, Webhook, WebhookCreate, WebhookDelivery, Me,
} from "./types.js";

export interface ClientOptions {
  baseUrl: string;
  /** A bearer token (token mode). */
  token?: string;
  /** The agent to act as (trust mode, loopback only): sent as X-Agent-Id. */
  agentId?: string;
  retry?: Partial<RetryPolicy>;
  /** Per attempt, for calls that are not streams. */
  timeoutMs?: number;
  /** Another fetch (a proxy's, a test's); the platform's by default. */
  fetch?: typeof fetch;
  /**
   * Read your own writes when the server reads from PostgreSQL replicas (docs/scaling.md): the
   * newest `X-Ctxmgr-Consistency` token a write answered is sent with every later request, so a
   * replica serves a read only once it has replayed that write. On by default; costs nothing
   * without replicas (no answer carries a token then).
   */
  readYourWrites?: boolean;
}

/** "16/B374D848" (a WAL position, as the server writes it) as a number; null when it is not one. */
function tokenPosition(token: string): bigint | null {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(token);
  return m ? (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`) : null;
}

export interface PageOptions {
  limit?: number;
  cursor?: string | null;
}

interface Call {
  params?: Record<string, string | number>;
  query?: Record<string, string | number | boolean | null | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  text?: boolean;
  stream?: boolean;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Client {
  readonly baseUrl: string;
  readonly retry: RetryPolicy;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #readYourWrites: boolean;
  #consistency: string | null = null;

  constructor(options: ClientOptions) {
    if (options.token && options.agentId) {
      throw new TypeError("give a token (token mode) or an agentId (trust mode), not both");
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.retry = { ...defaultRetry, ...options.retry };
    this.#timeoutMs = options.timeoutMs ?? 30000;
    this.#fetch = options.fetch ?? fetch;
    this.#headers = { Accept: "application/json" };
    if (options.token) this.#headers.Authorization = `Bearer ${options.token}`;
    if (options.agentId) this.#headers["X-Agent-Id"] = options.agentId;
    this.#readYourWrites = options.readYourWrites ?? true;
  }

  // ---- read-your-writes (docs/scaling.md) -------------------------------------------------
  /** The newest consistency token this client was answered (null before its first write). */
  get consistencyToken(): string | null { return this.#consistency; }
  /**
   * Adopts a token another client was answered (an agent handing its writes to another): this
   * client's reads then see those writes too. The newer of the two tokens is kept.
   */
  useConsistencyToken(token: string): void {
    const current = this.#consistency === null ? null : tokenPosition(this.#consistency);
    const given = tokenPosition(token);
    if (current === null || given === null || given > current) this.#consistency = token;
  }

  // ---- one request, retried -------------------------------------------------------------
  async #exchange(op: OperationId, c: Call): Promise<Response> {
    const [method, template] = OPERATIONS[op];
    const path = template.replace(/\{(\w+)\}/g, (_, k: string) => {
      const v = c.params?.[k];
      if (v === undefined || v === "") throw new TypeError(`${op}: ${k} is required`);
      return encodeURIComponent(String(v));
    });
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(c.query ?? {})) {
      if (v !== undefined && v !== null) q.set(k, String(v));
    }
    const url = this.baseUrl + path + (q.size ? `?${q}` : "");
    const headers: Record<string, string> = { ...this.#headers, ...c.headers };
    if (this.#readYourWrites && this.#consistency) headers["X-Ctxmgr-Consistency"] = this.#consistency;
    const body = c.body === undefined ? undefined : JSON.stringify(c.body);
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const mayRetryUnanswered = method === "GET" || "Idempotency-Key" in headers;
    for (let attempt = 0; ; attempt++) {
      let answer: Response;
      try {
        const signal = c.stream ? c.signal : AbortSignal.timeout(this.#timeoutMs);
        answer = await this.#fetch(url, { method, headers, body, signal });
      } catch (e) {
        if (c.signal?.aborted) throw e;
        if (mayRetryUnanswered && attempt < this.retry.maxRetries) {
          await sleep(retryDelay(this.retry, attempt));
          continue;
        }
        const reason = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
        throw new CtxmgrError(0, "connection", `${method} ${path}: ${reason}`);
      }
      if (answer.ok) {
        const token = answer.headers.get("X-Ctxmgr-Consistency");
        if (token) this.useConsistencyToken(token);
        return answer;
      }
      const text = await answer.text();
      if (RETRYABLE.has(answer.status) && attempt < this.retry.maxRetries) {
        await sleep(retryDelay(this.retry, attempt, answer.headers.get("Retry-After")));
        continue;
      }
      throw CtxmgrError.fromAnswer(answer.status, text, answer.headers.get("X-Request-Id"));
    }
  }

  async #call<T>(op: OperationId, c: Call = {}): Promise<T> {
    const answer = await this.#exchange(op, c);
    const text = await answer.text();
    if (c.text) return text as T;
    return (text ? JSON.parse(text) : undefined) as T;
  }

  // ---- health and documents -------------------------------------------------------------
  health(): Promise<{ status: string }> { return this.#call("get_healthz"); }
  ready(): Promise<Readiness> { return this.#call("get_readyz"); }
  metrics(): Promise<string> { return this.#call("get_metrics", { text: true }); }
  openapi(): Promise<Record<string, unknown>> { return this.#call("get_openjson"); }

  // ---- contexts --------------------------------------------------------------------------
  /**
   * Creates a context. It carries an Idempotency-Key (a random one unless you give yours), so
   * a retry, ours or yours with the same key, never makes two; the server derives such a
   * context's id from the key. `idempotencyKey: false` sends none (a time-ordered id; a create
   * whose answer was lost is then not retried).
   */
  createContext(c: { agentId: string; contextData: Record<string, unknown>; metadata?: Metadata;
                     idempotencyKey?: string | false }): Promise<Context> {
    const headers: Record<string, string> = c.idempotencyKey === false ? {}
      : { "Idempotency-Key": c.idempotencyKey ?? crypto.randomUUID() };
    return this.#call("post_context", {
      body: { agent_id: c.agentId, context_data: c.contextData, metadata: c.metadata }, headers });
  }

  getContext(id: string, options: { version?: number } = {}): Promise<Context> {
    return this.#call("get_context_id", { params: { id }, query: { version: options.version } });
  }

  /**
   * JSON Merge Patch of data and/or metadata. With `ifVersion`, only when the context is still
   * at that version; else a CtxmgrError 412 whose `currentVersion` says what it is now.
   */
  updateContext(id: string, patch: { contextData?: Record<string, unknown>; metadata?: Metadata },
                options: { ifVersion?: number } = {}): Promise<Context> {
    const headers: Record<string, string> =
      options.ifVersion === undefined ? {} : { "If-Match": `"${options.ifVersion}"` };
    return this.#call("patch_context_id", {
      params: { id }, body: { context_data: patch.contextData, metadata: patch.metadata }, headers });
  }

  deleteContext(id: string, options: { purge?: boolean } = {}): Promise<void> {
    return this.#call("delete_context_id", { params: { id }, query: { purge: options.purge || undefined } });
  }

  contextHistory(id: string, page: PageOptions = {}): Promise<Page<HistoryItem>> {
    return this.#call("get_context_id_history", { params: { id }, query: { ...page } });
  }

  revertContext(id: string, version: number): Promise<Context> {
    return this.#call("post_context_id_revert", { params: { id }, body: { version } });
  }

  redactVersion(id: string, version: number): Promise<Redaction> {
    return this.#call("post_context_id_versions_version_redact", { params: { id, version } });
  }

  listContexts(agentId: string, options: PageOptions & { tag?: string; includeDeleted?: boolean;
                                                         pathPrefix?: string } = {}): Promise<Page<Context>> {
    return this.#call("get_agent_agent_id_contexts", { params: { agent_id: agentId }, query: {
      limit: options.limit, cursor: options.cursor, tag: options.tag,
      include_deleted: options.includeDeleted, path_prefix: options.pathPrefix } });
  }

  // ---- selection, processing, memory -----------------------------------------------------
  select(agentId: string, request: SelectRequest): Promise<SelectAnswer> {
    return this.#call("post_agent_agent_id_select", { params: { agent_id: agentId }, body: request });
  }

  listSelections(agentId: string, page: PageOptions = {}): Promise<Page<SelectionRecord>> {
    return this.#call("get_agent_agent_id_selections", { params: { agent_id: agentId }, query: { ...page } });
  }

  getSelection(selectionId: number): Promise<SelectionRecord> {
    return this.#call("get_selections_selection_id", { params: { selection_id: selectionId } });
  }

  /** The answer in one piece; `processStream` gives the text as it comes. */
  process(agentId: string, request: ProcessRequest): Promise<ProcessAnswer> {
    return this.#call("post_agent_agent_id_process", {
      params: { agent_id: agentId }, body: { ...request, stream: false } });
  }

  /**
   * `process` with "stream": true: yields the text as the provider writes it and returns the
   * final answer (the generator's return value). An `error` event throws CtxmgrError.
   */
  async *processStream(agentId: string, request: ProcessRequest,
                       options: { signal?: AbortSignal } = {}): AsyncGenerator<string, ProcessAnswer | undefined> {
    const answer = await this.#exchange("post_agent_agent_id_process", {
      params: { agent_id: agentId }, body: { ...request, stream: true },
      headers: { Accept: "text/event-stream" }, stream: true, signal: options.signal });
    for await (const ev of sseEvents(answer.body!)) {
      if (ev.event === "delta") yield ev.data.text ?? "";
      else if (ev.event === "done") return ev.data as ProcessAnswer;
      else if (ev.event === "error") {
        const err = ev.data.error ?? {};
        throw new CtxmgrError(502, err.code ?? "unknown", err.message ?? "", err.request_id, err);
      }
    }
    return undefined;
  }

  /** One command of Claude's memory tool, exactly its `input`: {content, is_error}. */
  memory(agentId: string, command: MemoryCommand): Promise<MemoryAnswer> {
    return this.#call("post_agent_agent_id_memory", { params: { agent_id: agentId }, body: command });
  }

  // ---- sharing ----------------------------------------------------------------------------
  grantContext(id: string, agentId: string, permission: "read" | "write" = "read"): Promise<Grant> {
    return this.#call("post_context_id_grants", { params: { id }, body: { agent_id: agentId, permission } });
  }
  contextGrants(id: string): Promise<{ items: Grant[] }> {
    return this.#call("get_context_id_grants", { params: { id } });
  }
  revokeContext(id: string, agentId: string): Promise<void> {
    return this.#call("delete_context_id_grants_grantee", { params: { id, grantee: agentId } });
  }
  /** Shares every context of `owner`, present and future. */
  grantOwner(owner: string, agentId: string, permission: "read" | "write" = "read"): Promise<Grant> {
    return this.#call("post_agent_agent_id_grants", {
      params: { agent_id: owner }, body: { agent_id: agentId, permission } });
  }
  ownerGrants(owner: string): Promise<{ items: Grant[] }> {
    return this.#call("get_agent_agent_id_grants", { params: { agent_id: owner } });
  }
  revokeOwner(owner: string, agentId: string): Promise<void> {
    return this.#call("delete_agent_agent_id_grants_grantee", { params: { agent_id: owner, grantee: agentId } });
  }
  receivedGrants(agentId: string, page: PageOptions = {}): Promise<Page<ReceivedGrant>> {
    return this.#call("get_agent_agent_id_received_grants", { params: { agent_id: agentId }, query: { ...page } });
  }

  // ---- agents -----------------------------------------------------------------------------
  /** The token in the answer is shown this once. */
  createAgent(a: { agentId: string; displayName?: string; role?: "agent" | "admin" }): Promise<AgentCreated> {
    return this.#call("post_agents", { body: { agent_id: a.agentId, display_name: a.displayName, role: a.role } });
  }
  listAgents(page: PageOptions = {}): Promise<Page<Agent>> {
    return this.#call("get_agents", { query: { ...page } });
  }
  async getAgent(agentId: string): Promise<Agent> {
    return (await this.#call<{ agent: Agent }>("get_agents_agent_id", { params: { agent_id: agentId } })).agent;
  }
  /** Disables the agent; with `erase`, removes everything it owns and answers the report. */
  disableAgent(agentId: string, options: { erase?: boolean } = {}): Promise<ErasureReport | undefined> {
    return this.#call("delete_agents_agent_id", { params: { agent_id: agentId }, query: { erase: options.erase || undefined } });
  }
  rotateToken(agentId: string): Promise<Token> {
    return this.#call("post_agents_agent_id_token", { params: { agent_id: agentId } });
  }
  me(): Promise<Me> { return this.#call("get_me"); }

  // ---- audit and stats --------------------------------------------------------------------
  audit(filters: PageOptions & { contextId?: string; agentId?: string; action?: string;
                                 since?: string; until?: string } = {}): Promise<Page<AuditEvent>> {
    return this.#call("get_audit", { query: {
      context_id: filters.contextId, agent_id: filters.agentId, action: filters.action,
      since: filters.since, until: filters.until, limit: filters.limit, cursor: filters.cursor } });
  }
  verifyAudit(): Promise<AuditVerify> { return this.#call("get_audit_verify"); }
  stats(): Promise<Stats> { return this.#call("get_stats"); }

  // ---- webhooks ---------------------------------------------------------------------------
  createWebhook(w: WebhookCreate): Promise<Webhook> { return this.#call("post_webhooks", { body: w }); }
  listWebhooks(): Promise<{ items: Webhook[] }> { return this.#call("get_webhooks"); }
  getWebhook(webhookId: string): Promise<Webhook> {
    return this.#call("get_webhook", { params: { webhook_id: webhookId } });
  }
  deleteWebhook(webhookId: string): Promise<void> {
    return this.#call("delete_webhook", { params: { webhook_id: webhookId } });
  }
  webhookDeliveries(webhookId: string, page: PageOptions = {}): Promise<Page<WebhookDelivery>> {
    return this.#call("get_webhook_deliveries", { params: { webhook_id: webhookId }, query: { ...page } });
  }

  // ---- the change feed ----------------------------------------------------------------------
  /**
   * The change feed (docs/events.md) as it happens. Resume after a drop with `after` (the last
   * seq seen). Ends when the server closes the stream, or when `signal` aborts; breaking out of
   * the loop closes it too.
   */
  async *events(filters: { agentId?: string; contextId?: string; action?: string; after?: number;
                           signal?: AbortSignal } = {}): AsyncGenerator<FeedEvent> {
    const answer = await this.#exchange("get_events", {
      query: { agent_id: filters.agentId, context_id: filters.contextId, action: filters.action,
               after: filters.after },
      headers: { Accept: "text/event-stream" }, stream: true, signal: filters.signal });
    for await (const ev of sseEvents(answer.body!)) yield ev.data as FeedEvent;
  }

  // ---- pages ------------------------------------------------------------------------------
  /**
   * Every item of a paged call, page after page:
   * `for await (const c of client.pages((cursor) => client.listContexts("alice", { cursor })))`.
   */
  async *pages<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>): AsyncGenerator<T> {
    let cursor: string | null = null;
    do {
      const page: Page<T> = await fetchPage(cursor);
      yield* page.items;
      cursor = page.next_cursor;
    } while (cursor);
  }

  iterContexts(agentId: string, options: Omit<Parameters<Client["listContexts"]>[1], "cursor"> = {}) {
    return this.pages((cursor) => this.listContexts(agentId, { ...options, cursor }));
  }
  iterHistory(id: string, options: { limit?: number } = {}) {
    return this.pages((cursor) => this.contextHistory(id, { ...options, cursor }));
  }
  iterAudit(filters: Omit<Parameters<Client["audit"]>[0], "cursor"> = {}) {
    return this.pages((cursor) => this.audit({ ...filters, cursor }));
  }
}

export type { Message };
