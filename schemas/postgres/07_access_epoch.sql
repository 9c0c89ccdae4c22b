-- 07_access_epoch: every change to agents, tokens or grants notifies channel ctxmgr_access
-- (payload: this schema) when its transaction commits, whichever process makes it. Servers cache
-- who a token belongs to and what grants say, LISTEN on the channel, and drop that cache on a
-- notification (docs/security.md: The access cache). One notification per statement; PostgreSQL
-- folds identical ones of a transaction into one.
CREATE FUNCTION access_epoch_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ctxmgr_access', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;
CREATE TRIGGER agents_access_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agents
  FOR EACH STATEMENT EXECUTE FUNCTION access_epoch_notify();
CREATE TRIGGER agent_tokens_access_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON agent_tokens FOR EACH STATEMENT EXECUTE FUNCTION access_epoch_notify();
CREATE TRIGGER context_grants_access_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON context_grants FOR EACH STATEMENT EXECUTE FUNCTION access_epoch_notify();
CREATE TRIGGER owner_grants_access_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON owner_grants FOR EACH STATEMENT EXECUTE FUNCTION access_epoch_notify();
