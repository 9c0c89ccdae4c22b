-- 12_memory_paths: memory files (docs/memory-tool.md) are contexts whose metadata holds
-- "path": "/memories/...". A path names at most one live context of an agent: this index refuses
-- the second (a create or rename racing another loses with a conflict), and lists an agent's
-- files in path order (byte order: COLLATE "C"). Paths outside /memories are ordinary metadata
-- and are not indexed.
CREATE UNIQUE INDEX context_memory_path
  ON context (agent_id, (metadata_jsonb ->> 'path') COLLATE "C")
  WHERE NOT deleted AND left(metadata_jsonb ->> 'path', 10) = '/memories/';
