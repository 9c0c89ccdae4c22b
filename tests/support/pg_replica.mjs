// A PostgreSQL primary and a streaming replica of it for the Node tests (scripts/pg-temp.sh start,
// then replica: pg_basebackup -R, real replication), each in a folder of its own.
//
//   const pg = startPrimaryAndReplica();
//   ... storage: `{plugin: postgres, options: {url: '${pg.primary}', replicas: ['${pg.replica}']}}`
//   pg.waitReplayed(); pg.onReplica("SELECT pg_wal_replay_pause()");
//   pg.stop();

import { execFileSync } from "node:child_process";

const script = new URL("../../scripts/pg-temp.sh", import.meta.url).pathname;
const run = (args) => execFileSync("/bin/bash", [script, ...args]).toString();
const psql = (dsn, sql) => execFileSync("/usr/bin/psql", [dsn, "-Atc", sql]).toString().trim();

// The `export NAME=value` lines pg-temp.sh prints, as an object.
function exported(text) {
  const out = {};
  for (const m of text.matchAll(/^export (\w+)='?([^'\n]*?)'?$/gm)) out[m[1]] = m[2];
  return out;
}

export function startPrimaryAndReplica() {
  const p = exported(run(["start"]));
  let r;
  try {
    r = exported(run(["replica", p.CTXMGR_TEST_PG_DIR]));
  } catch (e) {
    run(["stop", p.CTXMGR_TEST_PG_DIR]);
    throw e;
  }
  return {
    primary: p.CTXMGR_TEST_PG_DSN,
    replica: r.CTXMGR_TEST_PG_REPLICA_DSN,
    onReplica: (sql) => psql(r.CTXMGR_TEST_PG_REPLICA_DSN, sql),
    // Until the replica has replayed everything the primary has written so far (10 s at most).
    waitReplayed() {
      const lsn = psql(p.CTXMGR_TEST_PG_DSN, "SELECT pg_current_wal_lsn()");
      const deadline = Date.now() + 10000;
      while (psql(r.CTXMGR_TEST_PG_REPLICA_DSN, `SELECT pg_last_wal_replay_lsn() >= '${lsn}'`) !== "t") {
        if (Date.now() > deadline) throw new Error(`the replica did not replay ${lsn} in 10 s`);
        execFileSync("/bin/sleep", ["0.05"]);
      }
    },
    stop() {
      run(["stop", r.CTXMGR_TEST_PG_REPLICA_DIR]);
      run(["stop", p.CTXMGR_TEST_PG_DIR]);
    },
  };
}
