// Every operation of the client against a real server, on SQLite and on PostgreSQL: answers,
// errors (code, message, request id, status), paging, ETag conflicts, idempotent creates, the
// change feed and a streamed process.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Client, CtxmgrError } from "../dist/index.js";
import { backends, startServer } from "./server.mjs";

for (const backend of backends) {
  describe(`client on ${backend}`, () => {
    let server, root, alice, bob;
    before(async () => {
      server = await startServer({ backend, auth: "token" });
      root = new Client({ baseUrl: server.baseUrl, token: server.adminToken });
      const a = await root.createAgent({ agentId: "alice", displayName: "Alice" });
      const b = await root.createAgent({ agentId: "bob" });
      alice = new Client({ baseUrl: server.baseUrl, token: a.token });
      bob = new Client({ baseUrl: server.baseUrl, token: b.token });
    });
    after(() => server.stop());

    test("a context's life: versions, If-Match conflicts, history, revert, delete, redact", async () => {
      const made = await alice.createContext({ agentId: "alice", contextData: { note: "uno" }, metadata: { priority: "high" } });
      assert.equal(made.version, 1);
      assert.deepEqual((await alice.getContext(made.id)).context_data, { note: "uno" });
      const two = await alice.updateContext(made.id, { contextData: { extra: 2 } }, { ifVersion: 1 });
      assert.equal(two.version, 2);
      assert.deepEqual(two.context_data, { note: "uno", extra: 2 });
      await assert.rejects(alice.updateContext(made.id, { contextData: { x: 1 } }, { ifVersion: 1 }), (e) => {
        assert.ok(e instanceof CtxmgrError);
        assert.equal(e.status, 412);
        assert.equal(e.code, "precondition_failed");
        assert.equal(e.currentVersion, 2);
        return true;
      });
      assert.deepEqual((await alice.getContext(made.id, { version: 1 })).context_data, { note: "uno" });
      assert.equal((await alice.revertContext(made.id, 1)).version, 3);
      const history = await alice.contextHistory(made.id);
      assert.deepEqual(history.items.map((h) => h.action), ["revert", "update", "create"]);
      assert.equal(await alice.deleteContext(made.id), undefined);
      await assert.rejects(alice.getContext(made.id), (e) => e.status === 404 && e.code === "not_found" && !!e.requestId);
      assert.equal((await alice.redactVersion(made.id, 2)).version, 2);
    });

    test("a retried create makes one context; another body under the key is a conflict", async () => {
      const key = randomUUID();
      const first = await alice.createContext({ agentId: "alice", contextData: { k: 1 }, idempotencyKey: key });
      const again = await alice.createContext({ agentId: "alice", contextData: { k: 1 }, idempotencyKey: key });
      assert.equal(first.id, again.id);
      await assert.rejects(alice.createContext({ agentId: "alice", contextData: { k: 2 }, idempotencyKey: key }), (e) => e.status === 409);
    });

    test("pages are followed to the end", async () => {
      const tag = `page-${randomUUID().slice(0, 8)}`;
      const ids = new Set();
      for (let i = 0; i < 5; i++) ids.add((await alice.createContext({ agentId: "alice", contextData: { n: i }, metadata: { tags: [tag] } })).id);
      const first = await alice.listContexts("alice", { limit: 2, tag });
      assert.equal(first.items.length, 2);
      assert.ok(first.next_cursor);
      const seen = [];
      for await (const c of alice.iterContexts("alice", { tag, limit: 2 })) seen.push(c.id);
      assert.deepEqual(new Set(seen), ids);
      let events = 0;
      for await (const e of alice.iterAudit({ action: "create", agentId: "alice", limit: 3 })) events += e.action === "create";
      assert.ok(events >= 5);
    });

    test("errors carry the API's body", async () => {
      await assert.rejects(alice.getContext("not-an-id"), (e) => e.status === 400 && e.code === "invalid_request");
      await assert.rejects(alice.createContext({ agentId: "bob", contextData: {} }), (e) => e.status === 403);
      await assert.rejects(new Client({ baseUrl: server.baseUrl }).me(), (e) => e.status === 401 && e.code === "unauthenticated");
      assert.throws(() => new Client({ baseUrl: server.baseUrl, token: "t", agentId: "a" }), TypeError);
    });

    test("selection, processing (whole and streamed) and the memory tool", async () => {
      await alice.createContext({ agentId: "alice", contextData: { tema: "búsqueda de vuelos baratos" } });
      const found = await alice.select("alice", { query: "busqueda vuelos", limit: 3 });
      assert.ok(found.items.length >= 1);
      assert.equal((await alice.getSelection(found.selection_id)).query, "busqueda vuelos");
      assert.equal((await alice.listSelections("alice", { limit: 1 })).items[0].id, found.selection_id);
      const whole = await alice.process("alice", { provider: "offline", messages: [{ role: "user", content: "vuelos" }] });
      assert.ok(whole.output_text);
      const stream = alice.processStream("alice", { provider: "offline", messages: [{ role: "user", content: "vuelos" }] });
      let text = "", done;
      for (;;) {
        const r = await stream.next();
        if (r.done) { done = r.value; break; }
        text += r.value;
      }
      assert.equal(text, done.output_text);
      assert.equal((await alice.memory("alice", { command: "create", path: "/memories/a.md", file_text: "hola" })).is_error, false);
      assert.match((await alice.memory("alice", { command: "view", path: "/memories/a.md" })).content, /hola/);
      assert.equal((await alice.listContexts("alice", { pathPrefix: "/memories/" })).items.length, 1);
    });

    test("sharing, agents and administration", async () => {
      const { id } = await alice.createContext({ agentId: "alice", contextData: { shared: true } });
      await assert.rejects(bob.getContext(id), (e) => e.status === 404);
      assert.equal((await alice.grantContext(id, "bob", "write")).permission, "write");
      assert.equal((await bob.getContext(id)).id, id);
      assert.equal((await alice.contextGrants(id)).items[0].agent_id, "bob");
      assert.ok((await bob.receivedGrants("bob")).items.some((g) => g.context_id === id));
      await alice.revokeContext(id, "bob");
      await alice.grantOwner("alice", "bob");
      assert.equal((await alice.ownerGrants("alice")).items[0].agent_id, "bob");
      await alice.revokeOwner("alice", "bob");
      assert.equal((await alice.me()).agent_id, "alice");
      assert.equal((await alice.getAgent("alice")).display_name, "Alice");
      const names = [];
      for await (const a of root.pages((cursor) => root.listAgents({ cursor, limit: 1 }))) names.push(a.agent_id);
      assert.ok(names.includes("bob"));
      const carol = await root.createAgent({ agentId: `carol-${randomUUID().slice(0, 6)}` });
      const rotated = await root.rotateToken(carol.agent.agent_id);
      assert.notEqual(rotated.token, carol.token);
      assert.equal((await new Client({ baseUrl: server.baseUrl, token: rotated.token }).me()).agent_id, carol.agent.agent_id);
      await root.disableAgent(carol.agent.agent_id);
      assert.equal((await root.getAgent(carol.agent.agent_id)).disabled, true);
      const gone = (await root.createAgent({ agentId: `erased-${randomUUID().slice(0, 6)}` })).agent.agent_id;
      await root.createContext({ agentId: gone, contextData: { bye: true } });
      const report = await root.disableAgent(gone, { erase: true });
      assert.deepEqual([report.agent_id, report.contexts], [gone, 1]);
      assert.deepEqual((await root.listContexts(gone)).items, []);
      assert.equal((await root.verifyAudit()).ok, true);
      assert.ok((await root.stats()).totals.contexts >= 1);
      assert.equal((await root.health()).status, "ok");
      await root.ready();
      assert.match(await root.metrics(), /ctxmgr_http_requests_total/);
      assert.equal((await root.openapi()).openapi, "3.1.0");
    });

    test("webhooks", async () => {
      const hook = await alice.createWebhook({ url: "http://127.0.0.1:9/hook", secret: "s".repeat(20), agent_id: "alice" });
      assert.equal("secret" in hook, false);
      assert.equal((await alice.getWebhook(hook.id)).url, "http://127.0.0.1:9/hook");
      assert.ok((await alice.listWebhooks()).items.some((w) => w.id === hook.id));
      assert.deepEqual((await alice.webhookDeliveries(hook.id)).items, []);
      await alice.deleteWebhook(hook.id);
      await assert.rejects(alice.getWebhook(hook.id), (e) => e.status === 404);
    });

    test("the change feed streams events and resumes after a seq", async () => {
      const abort = new AbortController();
      const feed = alice.events({ action: "create", signal: abort.signal });
      const first = feed.next();
      let event;
      for (let i = 0; i < 50 && !event; i++) {  // the stream opens while we create
        await alice.createContext({ agentId: "alice", contextData: { feed: i } });
        event = await Promise.race([first, new Promise((r) => setTimeout(r, 100))]);
      }
      assert.ok(event, "no event arrived");
      assert.equal(event.value.action, "create");
      assert.equal(typeof event.value.seq, "number");
      await feed.return();
      abort.abort();
      const after = alice.events({ action: "create", after: event.value.seq });
      await alice.createContext({ agentId: "alice", contextData: { feed: "later" } });
      const next = await after.next();
      assert.ok(next.value.seq > event.value.seq);
      await after.return();
    });
  });
}
