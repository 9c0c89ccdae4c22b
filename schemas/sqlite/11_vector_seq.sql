-- 11_vector_seq: each stored vector is numbered, so that a server reads only the vectors stored
-- since its last read (sdk/storage_vector_changes.hpp) instead of all of them at every reload.
-- put_vectors gives each vector its model's highest number plus one, inside its write
-- transaction; SQLite runs one write transaction at a time, so numbers follow commit order.
ALTER TABLE context_vectors ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE context_vectors SET seq = n.rn
  FROM (SELECT context_id, model, row_number() OVER (PARTITION BY model ORDER BY context_id) AS rn
        FROM context_vectors WHERE version > 0) AS n
  WHERE context_vectors.context_id = n.context_id AND context_vectors.model = n.model;
DROP INDEX context_vectors_model;
CREATE INDEX context_vectors_model_seq ON context_vectors (model, seq);
