-- 08_context_changes: every update or delete of a context row notifies channel ctxmgr_contexts
-- (payload: this schema, a space, the context's id) when its transaction commits, whichever
-- process makes it. Servers keep read contexts in memory, LISTEN on the channel and drop a context
-- on its notification (docs/storage-postgres.md: The context cache). An insert needs none: no
-- server holds a context before it exists. PostgreSQL folds identical notifications of a
-- transaction into one; a TRUNCATE notifies the schema alone (drop everything).
CREATE FUNCTION context_change_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ctxmgr_contexts', TG_TABLE_SCHEMA || ' ' || OLD.id::text);
  RETURN NULL;
END
$$;
CREATE FUNCTION context_truncate_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ctxmgr_contexts', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;
CREATE TRIGGER context_changes AFTER UPDATE OR DELETE ON context
  FOR EACH ROW EXECUTE FUNCTION context_change_notify();
CREATE TRIGGER context_truncate AFTER TRUNCATE ON context
  FOR EACH STATEMENT EXECUTE FUNCTION context_truncate_notify();
