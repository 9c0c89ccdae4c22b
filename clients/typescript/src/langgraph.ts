// A LangGraph.js store (BaseStore) on Context Manager: `compile({ store: new CtxmgrStore(client) })`.
// A namespace's first label is the agent, the rest a folder under `root` (/memories by default),
// and the key the file: ["alice", "prefs"], "tea" is alice's context at /memories/prefs/tea, its
// data the item's value. So items are versioned, shared, audited contexts, and Claude's memory
// tool and the console see them as memory files. `search` with a query is the selection endpoint
// (its ranking and score); without one, the folder's files in path order.
//
// Values are written as JSON Merge Patches of the previous value (one version per put), so a
// field set to null is removed, as RFC 7396 says; `put(ns, key, null)` deletes the item.

import {
  BaseStore, type GetOperation, type Item, type ListNamespacesOperation, type Operation,
  type OperationResults, type PutOperation, type SearchItem, type SearchOperation,
} from "@langchain/langgraph-checkpoint";

import type { Client } from "./client.js";
import { CtxmgrError } from "./errors.js";
import type { Context } from "./types.js";

export interface CtxmgrStoreOptions {
  /** The folder items live under: /memories (memory-file paths) by default. */
  root?: string;
  /** Candidates asked of the selection endpoint for a query, at most. */
  searchCandidates?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The RFC 7396 patch that turns `from` into `to`. */
export function mergePatch(from: Record<string, unknown>, to: Record<string, unknown>) {
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  for (const [k, v] of Object.entries(to)) {
    const old = from[k];
    if (isObject(old) && isObject(v)) {
      const sub = mergePatch(old, v);
      if (Object.keys(sub).length) patch[k] = sub;
    } else if (JSON.stringify(old) !== JSON.stringify(v)) {
      patch[k] = v;
    }
  }
  return patch;
}

export class CtxmgrStore extends BaseStore {
  readonly #client: Client;
  readonly #root: string;
  readonly #candidates: number;

  constructor(client: Client, options: CtxmgrStoreOptions = {}) {
    super();
    this.#client = client;
    this.#root = (options.root ?? "/memories").replace(/\/+$/, "");
    this.#candidates = options.searchCandidates ?? 200;
  }

  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    const results: unknown[] = [];
    for (const op of operations) results.push(await this.#run(op));
    return results as OperationResults<Op>;
  }

  #run(op: Operation): Promise<unknown> {
    if ("namespacePrefix" in op) return this.#search(op as SearchOperation);
    if ("value" in op) return this.#put(op as PutOperation);
    if ("key" in op) return this.#get(op as GetOperation);
    return this.#listNamespaces(op as ListNamespacesOperation);
  }

  #agent(namespace: string[]): string {
    if (!namespace.length || !namespace[0]) {
      throw new Error("CtxmgrStore: a namespace starts with the agent's id");
    }
    return namespace[0];
  }

  #folder(namespace: string[]): string {
    return [this.#root, ...namespace.slice(1)].join("/");
  }

  #item(ctx: Context, agent: string): Item {
    const rel = String(ctx.metadata.path).slice(this.#root.length + 1).split("/");
    return {
      value: ctx.context_data as Record<string, any>,
      key: rel[rel.length - 1],
      namespace: [agent, ...rel.slice(0, -1)],
      createdAt: new Date(ctx.created_at),
      updatedAt: new Date(ctx.updated_at),
    };
  }

  async #find(agent: string, path: string): Promise<Context | undefined> {
    const page = await this.#client.listContexts(agent, { pathPrefix: path, limit: 1 });
    const first = page.items[0];
    return first && first.metadata.path === path ? first : undefined;
  }

  async #get(op: GetOperation): Promise<Item | null> {
    const agent = this.#agent(op.namespace);
    const ctx = await this.#find(agent, `${this.#folder(op.namespace)}/${op.key}`);
    return ctx ? this.#item(ctx, agent) : null;
  }

  async #put(op: PutOperation): Promise<void> {
    const agent = this.#agent(op.namespace);
    const path = `${this.#folder(op.namespace)}/${op.key}`;
    for (let attempt = 0; attempt < 10; attempt++) {
      const ctx = await this.#find(agent, path);
      try {
        if (op.value === null) {
          if (ctx) await this.#client.deleteContext(ctx.id);
          return;
        }
        if (!ctx) {
          await this.#client.createContext({ agentId: agent, contextData: op.value,
                                             metadata: { path }, idempotencyKey: false });
          return;
        }
        const patch = mergePatch(ctx.context_data, op.value);
        if (Object.keys(patch).length === 0) return;
        await this.#client.updateContext(ctx.id, { contextData: patch }, { ifVersion: ctx.version });
        return;
      } catch (e) {
        // Another writer made the file or changed it since we read it: read again.
        if (!(e instanceof CtxmgrError) || ![409, 412, 404].includes(e.status)) throw e;
      }
    }
    throw new CtxmgrError(409, "conflict", `${path} kept changing; gave up`);
  }

  #matches(value: Record<string, unknown>, filter?: Record<string, unknown>): boolean {
    if (!filter) return true;
    return Object.entries(filter).every(([k, want]) => {
      const got = value[k];
      if (isObject(want) && Object.keys(want).every((o) => o.startsWith("$"))) {
        return Object.entries(want).every(([o, w]) => {
          switch (o) {
            case "$eq": return JSON.stringify(got) === JSON.stringify(w);
            case "$ne": return JSON.stringify(got) !== JSON.stringify(w);
            case "$gt": return (got as any) > (w as any);
            case "$gte": return (got as any) >= (w as any);
            case "$lt": return (got as any) < (w as any);
            case "$lte": return (got as any) <= (w as any);
            default: throw new Error(`CtxmgrStore: unknown filter operator ${o}`);
          }
        });
      }
      return JSON.stringify(got) === JSON.stringify(want);
    });
  }

  async #search(op: SearchOperation): Promise<SearchItem[]> {
    const agent = this.#agent(op.namespacePrefix);
    const folder = `${this.#folder(op.namespacePrefix)}/`;
    const offset = op.offset ?? 0;
    const limit = op.limit ?? 10;
    const found: SearchItem[] = [];
    if (op.query) {
      const answer = await this.#client.select(agent, {
        query: op.query, include_shared: false,
        limit: Math.min(1000, Math.max(this.#candidates, offset + limit)) });
      for (const it of answer.items) {
        const path = it.context.metadata?.path;
        if (typeof path === "string" && path.startsWith(folder) &&
            this.#matches(it.context.context_data, op.filter)) {
          found.push({ ...this.#item(it.context, agent), score: it.score });
        }
      }
      return found.slice(offset, offset + limit);
    }
    for await (const ctx of this.#client.iterContexts(agent, { pathPrefix: folder, limit: 1000 })) {
      if (this.#matches(ctx.context_data, op.filter)) found.push(this.#item(ctx, agent));
      if (found.length >= offset + limit) break;
    }
    return found.slice(offset, offset + limit);
  }

  async #listNamespaces(op: ListNamespacesOperation): Promise<string[][]> {
    const prefix = op.matchConditions?.find((c) => c.matchType === "prefix")?.path;
    if (!prefix?.length || prefix[0] === "*") {
      throw new Error("CtxmgrStore: listNamespaces needs a prefix that names the agent");
    }
    const agent = String(prefix[0]);
    const seen = new Map<string, string[]>();
    for await (const ctx of this.#client.iterContexts(agent, { pathPrefix: `${this.#root}/`, limit: 1000 })) {
      let ns = this.#item(ctx, agent).namespace;
      if (op.maxDepth !== undefined) ns = ns.slice(0, op.maxDepth);
      const fits = (op.matchConditions ?? []).every((c) => {
        const part = c.matchType === "prefix" ? ns.slice(0, c.path.length) : ns.slice(-c.path.length);
        return part.length === c.path.length && c.path.every((p, i) => p === "*" || p === part[i]);
      });
      if (fits) seen.set(JSON.stringify(ns), ns);
    }
    const all = [...seen.values()].sort((a, b) => a.join("\u0000").localeCompare(b.join("\u0000")));
    return all.slice(op.offset, op.offset + op.limit);
  }
}
