-- The SQL transaction of one create on storage-postgres (BEGIN, the row, its history entry, its
-- audit event, COMMIT: five round trips, as the plugin sends them), for pgbench: the database's
-- own ceiling for creates.
\set n random(1, 9000000000000000000)
BEGIN;
INSERT INTO public.context (id, agent_id, context_data, metadata, version, created_at, updated_at, created_by, updated_by, deleted) VALUES (CAST(md5(CAST(:n AS TEXT)) AS uuid), 'bench', '{"información":"valor","n":1}', '{"priority":"high"}', 1, now(), now(), 'admin', 'admin', false);
INSERT INTO public.context_history (context_id, version, action, agent_id, at, context_data, metadata) VALUES (CAST(md5(CAST(:n AS TEXT)) AS uuid), 1, 'create', 'admin', now(), '{"información":"valor","n":1}', '{"priority":"high"}');
INSERT INTO public.access_log (at, agent_id, action, context_id, transport, request_id, details) VALUES (now(), 'admin', 'create', CAST(md5(CAST(:n AS TEXT)) AS uuid), 'http', 'bench', '{"version":1}') RETURNING seq;
COMMIT;
