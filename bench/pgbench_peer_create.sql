-- The peer's create transaction on its own tables (bench/peer/schema.sql): the row, its history
-- entry and an access-log row, one transaction. pgbench's ceiling for a one-transaction create.
\set n random(1, 9000000000000000000)
BEGIN;
INSERT INTO peer.context (id, agent_id, context_data, metadata) VALUES (CAST(md5('pg' || :n) AS uuid), 'bench', '{"información":"valor","n":1}', '{"priority":"high"}');
INSERT INTO peer.context_history (context_id, version, context_data, metadata) VALUES (CAST(md5('pg' || :n) AS uuid), 1, '{"información":"valor","n":1}', '{"priority":"high"}');
INSERT INTO peer.access_log (context_id, agent_id, action) VALUES (CAST(md5('pg' || :n) AS uuid), 'bench', 'create');
COMMIT;
