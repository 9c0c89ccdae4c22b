-- 13_change_notify: nothing to do on SQLite. PostgreSQL's 13 makes each committed change wake the
-- change feeds of the other servers on the database; a SQLite file has one server, whose own
-- writes wake its feed (docs/events.md). Kept so both dialects count the same migrations.
SELECT 1;
