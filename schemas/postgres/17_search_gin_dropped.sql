-- 17_search_gin_dropped: the GIN index of 06_search goes. Since 10_search_postings every word is
-- found and scored through the postings' primary key; the index only served a document-frequency
-- count on tables not yet analysed (now counted in the postings) and cost a ninth of the creates
-- (bench/README.md). `search @@` still filters where a query walks another index (the newest
-- matches of a word too common to rank, docs/selection.md: Rank budget).
DROP INDEX context_search;
