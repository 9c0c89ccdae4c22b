-- The original Python system's tables (the seed's schema: context, access_log, and the
-- context_history its versioning keeps), in a schema of their own so they never meet ctxmgr's.
CREATE SCHEMA IF NOT EXISTS peer;
CREATE TABLE IF NOT EXISTS peer.context (
  id UUID PRIMARY KEY,
  agent_id VARCHAR NOT NULL,
  context_data JSONB NOT NULL,
  metadata JSONB,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  version INTEGER DEFAULT 1
);
CREATE TABLE IF NOT EXISTS peer.context_history (
  id SERIAL PRIMARY KEY,
  context_id UUID REFERENCES peer.context(id),
  version INTEGER NOT NULL,
  context_data JSONB NOT NULL,
  metadata JSONB,
  changed_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS peer.access_log (
  id SERIAL PRIMARY KEY,
  context_id UUID REFERENCES peer.context(id),
  agent_id VARCHAR NOT NULL,
  action VARCHAR NOT NULL,
  timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
