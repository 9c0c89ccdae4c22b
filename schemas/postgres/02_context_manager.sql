-- 02_context_manager: contexts and their versions. Documents are kept as the exact JSON text the
-- kernel wrote (JSONB would reorder keys); a JSONB copy of the metadata is derived for queries.
CREATE TABLE context (
  id             UUID PRIMARY KEY,                -- UUIDv7
  agent_id       TEXT NOT NULL,                   -- the owner
  context_data   TEXT NOT NULL,                   -- JSON object text
  metadata       TEXT NOT NULL DEFAULT '{}',      -- JSON object text
  metadata_jsonb JSONB GENERATED ALWAYS AS (metadata::jsonb) STORED,
  created_at     TIMESTAMPTZ NOT NULL,
  updated_at     TIMESTAMPTZ NOT NULL,
  created_by     TEXT NOT NULL,
  updated_by     TEXT NOT NULL,
  version        INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  deleted        BOOLEAN NOT NULL DEFAULT false
);
-- GET /api/agent/{id}/contexts: newest update first, keyset pagination on (updated_at, id).
CREATE INDEX context_agent_updated ON context (agent_id, updated_at DESC, id DESC);
-- ?tag= filters: metadata_jsonb @> '{"tags": ["x"]}'.
CREATE INDEX context_metadata_tags ON context USING GIN (metadata_jsonb jsonb_path_ops);

-- One row per version; a delete is a version too and carries the data it deleted.
CREATE TABLE context_history (
  context_id   UUID NOT NULL REFERENCES context (id) ON DELETE CASCADE,
  version      INTEGER NOT NULL,
  action       TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete', 'revert')),
  agent_id     TEXT NOT NULL,                     -- the actor who made this version
  at           TIMESTAMPTZ NOT NULL,
  context_data TEXT NOT NULL,
  metadata     TEXT NOT NULL,
  PRIMARY KEY (context_id, version)
);
