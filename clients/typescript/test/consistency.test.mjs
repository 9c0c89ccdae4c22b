// Read-your-writes through the client (docs/scaling.md), against a real primary and a streaming
// replica of it whose replay is paused: a client reads its own writes (it sends back the newest
// X-Ctxmgr-Consistency token it was answered); another client reads the replica's stale state
// until it is handed that token; one made with readYourWrites: false does not read its writes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "../dist/index.js";
import { startCtxmgr } from "../../../tests/support/ctxmgr_server.mjs";
import { startPrimaryAndReplica } from "../../../tests/support/pg_replica.mjs";
import { pgDsn } from "./server.mjs";

const notes = async (client) =>
  (await client.listContexts("ana")).items.map((c) => c.context_data.note).sort().join(",");

test("a client reads its writes from a paused replica; another does once handed the token",
  { skip: pgDsn ? false : "no PostgreSQL here (CTXMGR_TEST_PG_DSN)" }, async () => {
    const pg = startPrimaryAndReplica();
    let server;
    try {
      server = await startCtxmgr({
        prefix: "ctxmgr-tsclient-",
        // A lag allowance far above the test's length: the paused replica stays in rotation.
        storage: `{plugin: postgres, options: {url: '${pg.primary}', replicas: ['${pg.replica}'], ` +
                 "replica_check_ms: 50, replica_max_lag_ms: 600000, replica_wait_ms: 200}}",
      });
      const writer = new Client({ baseUrl: server.baseUrl, agentId: "ana" });
      const deadline = Date.now() + 10000;
      while (!(await writer.ready()).replicas?.[0]?.in_rotation) {
        assert.ok(Date.now() < deadline, "the replica never entered the rotation");
        await new Promise((r) => setTimeout(r, 50));
      }
      pg.waitReplayed();  // the schema the server made is on the replica
      pg.onReplica("SELECT pg_wal_replay_pause()");

      assert.equal(writer.consistencyToken, null, "no write yet, no token");
      await writer.createContext({ agentId: "ana", contextData: { note: "uno" } });
      const first = writer.consistencyToken;
      assert.match(first, /^[0-9A-F]+\/[0-9A-F]+$/);
      assert.equal(await notes(writer), "uno", "the writer reads its write");

      const other = new Client({ baseUrl: server.baseUrl, agentId: "ana" });
      assert.equal(await notes(other), "", "another client reads the paused replica");
      other.useConsistencyToken(first);
      assert.equal(await notes(other), "uno", "handed the token, it reads the write");

      const blind = new Client({ baseUrl: server.baseUrl, agentId: "ana", readYourWrites: false });
      await blind.createContext({ agentId: "ana", contextData: { note: "dos" } });
      assert.equal(await notes(blind), "", "without read-your-writes, the replica's stale state");

      // The newer token is kept, whichever order they come in.
      writer.useConsistencyToken(blind.consistencyToken);
      const newer = writer.consistencyToken;
      assert.notEqual(newer, first);
      writer.useConsistencyToken(first);
      assert.equal(writer.consistencyToken, newer);
      assert.equal(await notes(writer), "dos,uno", "served by the primary: the replica is behind");
      pg.onReplica("SELECT pg_wal_replay_resume()");
    } finally {
      server?.stop();
      pg.stop();
    }
  });
