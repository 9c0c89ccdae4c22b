-- 02_context_manager: contexts and their versions.
CREATE TABLE context (
  id           TEXT PRIMARY KEY,            -- UUIDv7, lower-case text
  agent_id     TEXT NOT NULL,               -- the owner
  context_data TEXT NOT NULL,               -- JSON object text, as written by the kernel
  metadata     TEXT NOT NULL DEFAULT '{}',  -- JSON object text
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  created_by   TEXT NOT NULL,
  updated_by   TEXT NOT NULL,
  version      INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  deleted      INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
-- GET /api/agent/{id}/contexts: newest update first, keyset pagination on (updated_at, id).
CREATE INDEX context_agent_updated ON context (agent_id, updated_at DESC, id DESC);

-- One row per version; a delete is a version too and carries the data it deleted.
CREATE TABLE context_history (
  context_id   TEXT NOT NULL REFERENCES context (id) ON DELETE CASCADE,
  version      INTEGER NOT NULL,
  action       TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete', 'revert')),
  agent_id     TEXT NOT NULL,               -- the actor who made this version
  at           INTEGER NOT NULL,
  context_data TEXT NOT NULL,
  metadata     TEXT NOT NULL,
  PRIMARY KEY (context_id, version)
) WITHOUT ROWID;
