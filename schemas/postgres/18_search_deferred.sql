-- 18_search_deferred: nothing to do on PostgreSQL (its postings trigger costs no more per change
-- inside a batch than alone). SQLite's 18 writes its full-text index once per transaction instead
-- of once per change. Kept so both dialects count the same migrations.
SELECT 1;
