// The LangGraph.js store on a real server: a real @langchain/langgraph graph (pinned) whose nodes
// remember and recall through `config.store`; then the store's operations one by one (get, put as
// versions, a removed field, delete, search with and without a query, filters, namespaces).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { Client } from "../dist/index.js";
import { CtxmgrStore, mergePatch } from "../dist/langgraph.js";
import { startServer } from "./server.mjs";

let server, client, store;
before(async () => {
  server = await startServer();
  client = new Client({ baseUrl: server.baseUrl, agentId: "alice" });
  store = new CtxmgrStore(client);
});
after(() => server.stop());

test("a graph remembers and recalls through the store", async () => {
  const State = Annotation.Root({ user: Annotation(), said: Annotation(), recalled: Annotation() });
  const graph = new StateGraph(State)
    .addNode("remember", async (state, config) => {
      await config.store.put([state.user, "prefs"], "drink", { drink: "green tea", said: state.said });
      return {};
    })
    .addNode("recall", async (state, config) => {
      const item = await config.store.get([state.user, "prefs"], "drink");
      const found = await config.store.search([state.user, "prefs"], { query: "tea" });
      return { recalled: `${item.value.drink} (${found.length} found, score ${found[0].score > 0})` };
    })
    .addEdge(START, "remember").addEdge("remember", "recall").addEdge("recall", END)
    .compile({ store });
  const out = await graph.invoke({ user: "alice", said: "I like green tea" });
  assert.equal(out.recalled, "green tea (1 found, score true)");
  // It is alice's context at /memories/prefs/drink.
  const files = await client.listContexts("alice", { pathPrefix: "/memories/prefs/" });
  assert.deepEqual(files.items.map((c) => c.metadata.path), ["/memories/prefs/drink"]);
});

test("put writes versions; a field left out is removed; null deletes", async () => {
  await store.put(["alice", "notes"], "n1", { title: "uno", body: { a: 1, b: 2 }, tags: ["x"] });
  await store.put(["alice", "notes"], "n1", { title: "dos", body: { a: 1 } });
  const item = await store.get(["alice", "notes"], "n1");
  assert.deepEqual(item.value, { title: "dos", body: { a: 1 } });
  assert.deepEqual(item.namespace, ["alice", "notes"]);
  assert.equal(item.key, "n1");
  assert.ok(item.updatedAt >= item.createdAt);
  const [ctx] = (await client.listContexts("alice", { pathPrefix: "/memories/notes/n1" })).items;
  assert.equal(ctx.version, 2);
  await store.put(["alice", "notes"], "n1", { title: "dos", body: { a: 1 } });  // no change: no version
  assert.equal((await client.getContext(ctx.id)).version, 2);
  await store.delete(["alice", "notes"], "n1");
  assert.equal(await store.get(["alice", "notes"], "n1"), null);
  assert.equal(await store.get(["alice", "notes"], "never"), null);
  // The history keeps every value.
  assert.deepEqual((await client.contextHistory(ctx.id)).items.map((h) => h.action), ["delete", "update", "create"]);
});

test("search: a folder in path order, filters, offset and limit; namespaces", async () => {
  for (const [k, v] of [["a", 1], ["b", 2], ["c", 3]]) await store.put(["alice", "nums"], k, { n: v, kind: v % 2 ? "odd" : "even" });
  await store.put(["alice", "nums", "deep"], "d", { n: 4, kind: "even" });
  const all = await store.search(["alice", "nums"], { limit: 10 });
  assert.deepEqual(all.map((i) => i.key), ["a", "b", "c", "d"]);
  const odd = await store.search(["alice", "nums"], { filter: { kind: "odd" } });
  assert.deepEqual(odd.map((i) => i.value.n), [1, 3]);
  const big = await store.search(["alice", "nums"], { filter: { n: { $gte: 3 } } });
  assert.deepEqual(big.map((i) => i.value.n), [3, 4]);
  assert.deepEqual((await store.search(["alice", "nums"], { offset: 1, limit: 2 })).map((i) => i.key), ["b", "c"]);
  const spaces = await store.listNamespaces({ prefix: ["alice", "nums"] });
  assert.deepEqual(spaces, [["alice", "nums"], ["alice", "nums", "deep"]]);
  assert.deepEqual(await store.listNamespaces({ prefix: ["alice", "nums"], maxDepth: 2 }), [["alice", "nums"]]);
  await assert.rejects(store.listNamespaces({}), /names the agent/);
});

test("mergePatch turns one value into the other", () => {
  assert.deepEqual(mergePatch({ a: 1, b: { c: 1, d: 2 }, e: [1] }, { a: 1, b: { c: 2 }, e: [2] }),
                   { b: { d: null, c: 2 }, e: [2] });
  assert.deepEqual(mergePatch({ a: 1 }, { a: 1 }), {});
});
