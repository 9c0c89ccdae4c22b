-- 01_immutable_log: the audit log (the seed's access_log). Append-only: a trigger refuses UPDATE
-- and DELETE. No foreign key to context: a purge erases the context but keeps its events.
CREATE TABLE access_log (
  seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at         TIMESTAMPTZ NOT NULL,
  agent_id   TEXT NOT NULL,
  action     TEXT NOT NULL,
  context_id UUID,
  transport  TEXT NOT NULL DEFAULT '',
  request_id TEXT NOT NULL DEFAULT '',
  details    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX access_log_context ON access_log (context_id, seq);
CREATE INDEX access_log_agent ON access_log (agent_id, seq);

CREATE FUNCTION access_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'access_log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
  FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
  FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();
