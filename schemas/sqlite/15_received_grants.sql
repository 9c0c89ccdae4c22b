-- 15_received_grants: the grants an agent received (GET /api/agent/{id}/received-grants, the
-- console's agent page) are read by grantee; context grants have had that index since 04.
CREATE INDEX owner_grants_agent ON owner_grants (agent_id, owner_id);
