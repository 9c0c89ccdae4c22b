-- 01_immutable_log: the audit log (the seed's access_log). Append-only: triggers refuse UPDATE and
-- DELETE. No foreign key to context: a purge erases the context but keeps its events.
CREATE TABLE access_log (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  at         INTEGER NOT NULL,
  agent_id   TEXT NOT NULL,
  action     TEXT NOT NULL,
  context_id TEXT,
  transport  TEXT NOT NULL DEFAULT '',
  request_id TEXT NOT NULL DEFAULT '',
  details    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX access_log_context ON access_log (context_id, seq);
CREATE INDEX access_log_agent ON access_log (agent_id, seq);

CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN
  SELECT RAISE(ABORT, 'access_log is append-only');
END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN
  SELECT RAISE(ABORT, 'access_log is append-only');
END;
