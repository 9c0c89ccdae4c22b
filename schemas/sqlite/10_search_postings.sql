-- 10_search_postings: PostgreSQL's postings table (schemas/postgres/10_search_postings.sql).
-- SQLite's FTS5 index already keeps postings with term frequencies (06_search.sql), so there is
-- nothing to add here; the number keeps both backends' schema versions in step.
SELECT 1;
