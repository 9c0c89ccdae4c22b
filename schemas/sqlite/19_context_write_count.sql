-- 19_context_write_count: a counter that every update and delete of a context bumps, in its own
-- transaction, whichever program writes the file. The storage plugin's report of context changes
-- (wal_watch.hpp) reads it when the WAL index's header moved: a commit that rewrote or removed no
-- context (a batch of audit events, creates) then leaves the servers' context caches as they were,
-- where before any commit dropped them whole. Inserts do not count: a cache keeps no context that
-- does not exist.
CREATE TABLE context_write_count (n INTEGER NOT NULL);
INSERT INTO context_write_count (n) VALUES (0);

CREATE TRIGGER context_write_count_update AFTER UPDATE ON context BEGIN
  UPDATE context_write_count SET n = n + 1;
END;

CREATE TRIGGER context_write_count_delete AFTER DELETE ON context BEGIN
  UPDATE context_write_count SET n = n + 1;
END;
