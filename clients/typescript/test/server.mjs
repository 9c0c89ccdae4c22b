// A real `ctxmgr serve` for the client tests (tests/support/ctxmgr_server.mjs): SQLite, or
// PostgreSQL (CTXMGR_TEST_PG_DSN) in a schema of its own; trust mode, or token mode with an admin
// made with the CLI first; the offline provider.

import { randomUUID } from "node:crypto";
import { startCtxmgr } from "../../../tests/support/ctxmgr_server.mjs";

export const pgDsn = process.env.CTXMGR_TEST_PG_DSN;
export const backends = ["sqlite", ...(pgDsn ? ["postgres"] : [])];

export async function startServer({ backend = "sqlite", auth = "trust" } = {}) {
  const schema = `tsc_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
  const s = await startCtxmgr({
    auth, prefix: "ctxmgr-tsclient-", providers: "[{plugin: offline}]",
    agents: auth === "token" ? [["root", "admin"]] : [],
    storage: backend === "postgres" ? `{plugin: postgres, options: {url: '${pgDsn}', schema: ${schema}}}` : undefined,
  });
  return { baseUrl: s.baseUrl, adminToken: s.tokens.root, stop: s.stop };
}
