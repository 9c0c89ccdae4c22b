-- 14_webhooks: the webhooks agents registered for the change feed (docs/events.md: Webhooks),
-- where each one's deliveries have reached (cursor: an audit seq), the server delivering it now
-- (a lease), and the log of delivery attempts. Times are microseconds since the Unix epoch.
CREATE TABLE webhooks (
  id             TEXT PRIMARY KEY,
  owner          TEXT NOT NULL,
  url            TEXT NOT NULL,
  secret         TEXT NOT NULL,
  agent_id       TEXT NOT NULL DEFAULT '',
  context_id     TEXT NOT NULL DEFAULT '',
  actions        TEXT NOT NULL DEFAULT '',
  created_at     INTEGER NOT NULL,
  cursor         INTEGER NOT NULL,
  lease_holder   TEXT NOT NULL DEFAULT '',
  lease_until    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX webhooks_owner ON webhooks (owner, id);

CREATE TABLE webhook_deliveries (
  webhook_id  TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  attempt     INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  status      INTEGER NOT NULL,
  error       TEXT NOT NULL DEFAULT '',
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (webhook_id, seq, attempt)
) WITHOUT ROWID;
