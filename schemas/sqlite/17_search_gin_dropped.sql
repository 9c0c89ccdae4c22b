-- 17_search_gin_dropped: nothing to do on SQLite (FTS5 is its index). PostgreSQL's 17 drops the GIN
-- index its postings made redundant. Kept so both dialects count the same migrations.
SELECT 1;
