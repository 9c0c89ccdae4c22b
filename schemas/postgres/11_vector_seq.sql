-- 11_vector_seq: each stored vector is numbered, so that a server reads only the vectors stored
-- since its last read (sdk/storage_vector_changes.hpp) instead of all of them at every reload.
-- Numbers come from `context_vectors_seq` (the column's default, also taken by a claim's row, whose
-- version 0 is never read); put_vectors takes a transaction-level advisory lock before it numbers
-- its vectors, so stores commit one at a time and numbers follow commit order: a reader whose
-- cursor is N can never later meet a committed vector numbered N or less.
CREATE SEQUENCE context_vectors_seq;
ALTER TABLE context_vectors ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE context_vectors SET seq = nextval('context_vectors_seq') WHERE version > 0;
ALTER TABLE context_vectors ALTER COLUMN seq SET DEFAULT nextval('context_vectors_seq');
ALTER SEQUENCE context_vectors_seq OWNED BY context_vectors.seq;
DROP INDEX context_vectors_model;
CREATE INDEX context_vectors_model_seq ON context_vectors (model, seq);
