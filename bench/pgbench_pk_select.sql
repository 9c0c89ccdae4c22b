-- One primary-key select on the peer's context table (one round trip): pgbench's read ceiling.
-- bench/production.sh inserts the 200 rows with ids md5('ctx' || n), n = 1..200.
\set k random(1, 200)
SELECT id, agent_id, context_data, metadata, version FROM peer.context WHERE id = CAST(md5('ctx' || :k) AS uuid);
