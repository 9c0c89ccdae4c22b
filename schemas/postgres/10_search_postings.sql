-- 10_search_postings: the search vector's lexemes as rows (lexeme, context, term frequency,
-- document length), so BM25 sums index entries instead of unpacking each matching context's
-- vector (docs/storage-postgres.md: Search postings). Derived from context.search, kept by a
-- trigger in the transaction that changes the context, never backed up. The primary key carries
-- tf and dl, so ranking reads the index alone. It costs space: at 100 000 contexts of ~40 words
-- the table and its index are several times the GIN index (bench/README.md).
CREATE TABLE context_postings (
  lexeme     TEXT NOT NULL,
  context_id UUID NOT NULL,
  tf         INTEGER NOT NULL,  -- positions of the lexeme in the vector, at least 1
  dl         INTEGER NOT NULL,  -- lexemes in the context's vector: BM25's document length
  PRIMARY KEY (lexeme, context_id) INCLUDE (tf, dl)
);

-- A deleted context has no vector, so deleting, updating and erasing remove its postings by the
-- old vector's lexemes (through the primary key: no second index to keep).
CREATE FUNCTION context_postings_sync() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.search IS NOT DISTINCT FROM OLD.search THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' AND OLD.search IS NOT NULL THEN
    DELETE FROM context_postings
     WHERE lexeme = ANY (tsvector_to_array(OLD.search)) AND context_id = OLD.id;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.search IS NOT NULL THEN
    INSERT INTO context_postings (lexeme, context_id, tf, dl)
      SELECT u.lexeme, NEW.id, coalesce(array_length(u.positions, 1), 1), length(NEW.search)
        FROM unnest(NEW.search) u;
  END IF;
  RETURN NULL;
END
$$;

INSERT INTO context_postings (lexeme, context_id, tf, dl)
  SELECT u.lexeme, c.id, coalesce(array_length(u.positions, 1), 1), length(c.search)
    FROM context c CROSS JOIN LATERAL unnest(c.search) u
   WHERE c.search IS NOT NULL;

CREATE TRIGGER context_postings AFTER INSERT OR UPDATE OR DELETE ON context
  FOR EACH ROW EXECUTE FUNCTION context_postings_sync();
