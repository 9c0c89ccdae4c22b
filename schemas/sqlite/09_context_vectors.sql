-- 09_context_vectors: each context's current version embedded by a model (docs/semantic.md).
-- Derived data: made from context.context_data by the embedding worker, never backed up, gone
-- with its context. One row per context and model: the latest vector made (`version`; `vector`,
-- the hex of `dims` little-endian float32 values) and the claim of the worker embedding the
-- current version (`claimed_version` until `lease_until`, µs since the epoch).
CREATE TABLE context_vectors (
  context_id      TEXT NOT NULL REFERENCES context (id) ON DELETE CASCADE,
  model           TEXT NOT NULL,
  version         INTEGER NOT NULL DEFAULT 0,  -- 0: no vector yet
  dims            INTEGER NOT NULL DEFAULT 0,
  vector          TEXT,
  claimed_version INTEGER NOT NULL DEFAULT 0,
  lease_until     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (context_id, model)
) WITHOUT ROWID;
CREATE INDEX context_vectors_model ON context_vectors (model);
