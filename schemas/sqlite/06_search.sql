-- 06_search: the full-text index of live contexts, for selection. context_fts holds, per live
-- context (by rowid), the keys and string values of its context_data and metadata; the triggers
-- keep it current inside the transaction of each change, and a deleted context leaves it. `id`
-- lets the plugin notice rowids renumbered by a VACUUM and rebuild the index (docs/selection.md).
-- Tokenizer `ctxmgr` (registered by the storage plugin on every connection): unicode61 words,
-- case- and accent-folded, with their Spanish and English Snowball stems as synonyms.
CREATE VIRTUAL TABLE context_fts USING fts5 (body, id UNINDEXED, tokenize = 'ctxmgr');

-- The searchable text of each context: object keys and string values, in document order.
CREATE VIEW context_search_text AS
SELECT c.rowid AS rid,
       (SELECT group_concat(CASE WHEN t.type = 'text'
                                 THEN CASE WHEN typeof(t.key) = 'text' THEN t.key || ' ' ELSE '' END
                                      || t.atom
                                 ELSE t.key END, ' ')
          FROM (SELECT key, type, atom FROM json_tree(c.context_data)
                UNION ALL
                SELECT key, type, atom FROM json_tree(c.metadata)) AS t
         WHERE typeof(t.key) = 'text' OR t.type = 'text') AS body
  FROM context c;

CREATE TRIGGER context_fts_insert AFTER INSERT ON context WHEN new.deleted = 0 BEGIN
  INSERT INTO context_fts (rowid, body, id)
  SELECT rid, coalesce(body, ''), new.id FROM context_search_text WHERE rid = new.rowid;
END;

CREATE TRIGGER context_fts_update AFTER UPDATE ON context BEGIN
  DELETE FROM context_fts WHERE rowid = old.rowid;
  INSERT INTO context_fts (rowid, body, id)
  SELECT rid, coalesce(body, ''), new.id FROM context_search_text
   WHERE rid = new.rowid AND new.deleted = 0;
END;

CREATE TRIGGER context_fts_delete AFTER DELETE ON context BEGIN
  DELETE FROM context_fts WHERE rowid = old.rowid;
END;

INSERT INTO context_fts (rowid, body, id)
SELECT s.rid, coalesce(s.body, ''), c.id FROM context_search_text s JOIN context c ON c.rowid = s.rid
 WHERE c.deleted = 0;
