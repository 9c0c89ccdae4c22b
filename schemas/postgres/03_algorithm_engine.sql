-- 03_algorithm_engine: the record of every selection (who asked, the query, the selector and its
-- parameters, what came back with which scores), filled by the selection issue.
CREATE TABLE selection_log (
  id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at       TIMESTAMPTZ NOT NULL,
  agent_id TEXT NOT NULL,
  query    TEXT NOT NULL,
  selector TEXT NOT NULL,
  params   TEXT NOT NULL DEFAULT '{}',
  results  TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX selection_log_agent ON selection_log (agent_id, id);
