-- 06_search: the full-text index of live contexts, for selection. `search` holds the keys and
-- string values of context_data and metadata analysed four ways: PostgreSQL's spanish and
-- english configurations (Snowball stems), and the same stemmers after unaccent — so a word is
-- found by its stem in either language and with or without its accents (`facturacion` finds
-- `facturación`, `migrar` finds `migración`, `invoices` finds `invoice`). A deleted context has no
-- vector. It is a generated column: every change keeps it current in its own transaction.
DO $$
DECLARE
  ext_schema text;
BEGIN
  SELECT n.nspname INTO ext_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'unaccent';
  IF ext_schema IS NULL THEN
    -- unaccent is a trusted extension (PostgreSQL 13+): the database owner may create it.
    CREATE EXTENSION unaccent WITH SCHEMA public;
    ext_schema := 'public';
  END IF;
  CREATE TEXT SEARCH CONFIGURATION ctxmgr_es_plain (COPY = pg_catalog.spanish);
  EXECUTE format('ALTER TEXT SEARCH CONFIGURATION ctxmgr_es_plain ALTER MAPPING FOR '
                 'hword, hword_part, word WITH %I.unaccent, spanish_stem', ext_schema);
  CREATE TEXT SEARCH CONFIGURATION ctxmgr_en_plain (COPY = pg_catalog.english);
  EXECUTE format('ALTER TEXT SEARCH CONFIGURATION ctxmgr_en_plain ALTER MAPPING FOR '
                 'hword, hword_part, word WITH %I.unaccent, english_stem', ext_schema);
END $$;

ALTER TABLE context ADD COLUMN search tsvector GENERATED ALWAYS AS (
  CASE WHEN deleted THEN NULL ELSE
    jsonb_to_tsvector('pg_catalog.spanish'::regconfig,
                      '[]'::jsonb || context_data::jsonb || metadata::jsonb, '["string", "key"]')
    || jsonb_to_tsvector('ctxmgr_es_plain'::regconfig,
                         '[]'::jsonb || context_data::jsonb || metadata::jsonb, '["string", "key"]')
    || jsonb_to_tsvector('pg_catalog.english'::regconfig,
                         '[]'::jsonb || context_data::jsonb || metadata::jsonb, '["string", "key"]')
    || jsonb_to_tsvector('ctxmgr_en_plain'::regconfig,
                         '[]'::jsonb || context_data::jsonb || metadata::jsonb, '["string", "key"]')
  END) STORED;
CREATE INDEX context_search ON context USING GIN (search);
