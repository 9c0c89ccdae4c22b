-- 04_access_control: agents' tokens (only their SHA-256) and grants that share one context, or
-- every context of an owner, with another agent.
CREATE TABLE agent_tokens (
  token_hash TEXT PRIMARY KEY,  -- hex SHA-256 of the token; the token itself is never stored
  agent_id   TEXT NOT NULL REFERENCES agents (agent_id),
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX agent_tokens_agent ON agent_tokens (agent_id);

CREATE TABLE context_grants (
  context_id UUID NOT NULL REFERENCES context (id) ON DELETE CASCADE,
  agent_id   TEXT NOT NULL,
  permission TEXT NOT NULL CHECK (permission IN ('read', 'write')),
  granted_by TEXT NOT NULL,
  granted_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (context_id, agent_id)
);
CREATE INDEX context_grants_agent ON context_grants (agent_id, context_id);

CREATE TABLE owner_grants (
  owner_id   TEXT NOT NULL,
  agent_id   TEXT NOT NULL,
  permission TEXT NOT NULL CHECK (permission IN ('read', 'write')),
  granted_by TEXT NOT NULL,
  granted_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (owner_id, agent_id)
);
