-- 19_context_write_count: nothing to do on PostgreSQL (08_context_changes already tells the
-- servers which contexts changed). SQLite's 19 counts the updates and deletes of contexts, so a
-- commit that changed none leaves the context caches as they were. Kept so both dialects count
-- the same migrations.
SELECT 1;
