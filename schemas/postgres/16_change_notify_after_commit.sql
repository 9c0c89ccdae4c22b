-- 16_change_notify_after_commit: 13's row trigger is gone. A transaction that notifies holds
-- PostgreSQL's notify lock from its commit until its WAL is flushed, so the write transactions of
-- every server queued behind one another, and a trigger call per audit event cost a sixth of the
-- creates (bench/README.md). Each server now notifies channel ctxmgr_events with this schema's
-- name itself, once, right after committing changes of the change feed, from a session of its
-- own (docs/events.md: Several servers).
DROP TRIGGER audit_changes ON access_log;
DROP FUNCTION audit_change_notify();
