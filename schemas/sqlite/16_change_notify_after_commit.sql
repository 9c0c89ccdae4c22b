-- 16_change_notify_after_commit: nothing to do on SQLite (its 13 created nothing). PostgreSQL's 16
-- drops 13's row trigger: its servers notify after they commit. Kept so both dialects count the
-- same migrations.
SELECT 1;
