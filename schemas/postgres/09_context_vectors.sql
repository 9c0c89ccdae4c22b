-- 09_context_vectors: each context's current version embedded by a model (docs/semantic.md).
-- Derived data: made from context.context_data by the embedding worker, never backed up, gone
-- with its context. One row per context and model: the latest vector made (`version`, `vector`:
-- little-endian float32, `dims` of them) and the claim of the worker embedding the current version
-- (`claimed_version` until `lease_until`, µs since the epoch). Servers sharing the database claim
-- with INSERT ... ON CONFLICT DO UPDATE ... WHERE, so one claim wins.
CREATE TABLE context_vectors (
  context_id      UUID NOT NULL REFERENCES context (id) ON DELETE CASCADE,
  model           TEXT NOT NULL,
  version         BIGINT NOT NULL DEFAULT 0,  -- 0: no vector yet
  dims            INTEGER NOT NULL DEFAULT 0,
  vector          BYTEA,
  claimed_version BIGINT NOT NULL DEFAULT 0,
  lease_until     BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (context_id, model)
);
CREATE INDEX context_vectors_model ON context_vectors (model);
