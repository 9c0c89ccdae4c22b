-- 14_webhooks: the webhooks agents registered for the change feed (docs/events.md: Webhooks),
-- where each one's deliveries have reached (cursor: an audit seq), the server delivering it now
-- (a lease, taken with one conditional UPDATE, so one server delivers each webhook), and the log
-- of delivery attempts.
CREATE TABLE webhooks (
  id             UUID PRIMARY KEY,
  owner          TEXT NOT NULL,
  url            TEXT NOT NULL,
  secret         TEXT NOT NULL,
  agent_id       TEXT NOT NULL DEFAULT '',
  context_id     TEXT NOT NULL DEFAULT '',
  actions        TEXT NOT NULL DEFAULT '',
  created_at     TIMESTAMPTZ NOT NULL,
  cursor         BIGINT NOT NULL,
  lease_holder   TEXT NOT NULL DEFAULT '',
  lease_until    TIMESTAMPTZ NOT NULL DEFAULT 'epoch'
);
CREATE INDEX webhooks_owner ON webhooks (owner, id);

CREATE TABLE webhook_deliveries (
  webhook_id  UUID NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  seq         BIGINT NOT NULL,
  attempt     INTEGER NOT NULL,
  at          TIMESTAMPTZ NOT NULL,
  status      INTEGER NOT NULL,
  error       TEXT NOT NULL DEFAULT '',
  duration_ms BIGINT NOT NULL,
  PRIMARY KEY (webhook_id, seq, attempt)
);
