-- 13_change_notify: each change recorded in the audit log (the change feed's actions: create,
-- update, delete, purge, revert, redact, grant, revoke) notifies channel ctxmgr_events with this
-- schema's name when its transaction commits, whichever server made it, so every server's change
-- feed looks at the log at once (docs/events.md). PostgreSQL folds identical notifications of a
-- transaction into one: a group commit of many changes sends one. Reads are not notified.
CREATE FUNCTION audit_change_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ctxmgr_events', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;
CREATE TRIGGER audit_changes AFTER INSERT ON access_log
  FOR EACH ROW
  WHEN (NEW.action IN ('create', 'update', 'delete', 'purge', 'revert', 'redact', 'grant',
                       'revoke'))
  EXECUTE FUNCTION audit_change_notify();
