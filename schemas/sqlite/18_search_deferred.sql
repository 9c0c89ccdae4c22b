-- 18_search_deferred: the full-text index is written once per transaction, not once per change.
-- FTS5 keeps a transaction's new entries in memory and writes them as one segment, but it must
-- write what it holds at every savepoint, and every statement that fires a trigger inside a
-- transaction opens one: with 06's triggers each create of a group commit wrote a segment of its
-- own, and the index's writes were ~40% of a batch's time (bench/README.md). Now the triggers
-- only note which rows changed, here; the storage plugin rewrites their context_fts rows in two
-- statements just before it commits (sqlite_search.cpp: index_pending), in the same transaction,
-- so a commit still holds its index entries. Rows noted by another program that writes the file
-- (the sqlite3 shell) wait for the plugin's next commit or start.
CREATE TABLE context_fts_pending (rid INTEGER PRIMARY KEY);

DROP TRIGGER context_fts_insert;
DROP TRIGGER context_fts_update;
DROP TRIGGER context_fts_delete;

CREATE TRIGGER context_fts_insert AFTER INSERT ON context WHEN new.deleted = 0 BEGIN
  INSERT OR IGNORE INTO context_fts_pending (rid) VALUES (new.rowid);
END;

CREATE TRIGGER context_fts_update AFTER UPDATE ON context BEGIN
  INSERT OR IGNORE INTO context_fts_pending (rid) VALUES (old.rowid);
END;

CREATE TRIGGER context_fts_delete AFTER DELETE ON context BEGIN
  INSERT OR IGNORE INTO context_fts_pending (rid) VALUES (old.rowid);
END;
