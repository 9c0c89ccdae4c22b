-- 00_base: agents (the seed's agent registry).
CREATE TABLE agents (
  agent_id     TEXT PRIMARY KEY,
  display_name TEXT NOT NULL DEFAULT '',
  role         TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'admin')),
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  disabled     BOOLEAN NOT NULL DEFAULT false
);
