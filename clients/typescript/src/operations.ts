// Every REST operation of docs/openapi.json: operationId -> [HTTP method, path, the Client
// method that calls it]. test/openapi.test.mjs checks the table against the document (an
// operation without a row, or a row whose method or path differs, fails the tests) and that each
// named method exists.

export const OPERATIONS = {
  get_healthz: ["GET", "/healthz", "health"],
  get_readyz: ["GET", "/readyz", "ready"],
  get_metrics: ["GET", "/metrics", "metrics"],
  get_openjson: ["GET", "/api/openapi.json", "openapi"],
  post_context: ["POST", "/api/context", "createContext"],
  get_context_id: ["GET", "/api/context/{id}", "getContext"],
  patch_context_id: ["PATCH", "/api/context/{id}", "updateContext"],
  delete_context_id: ["DELETE", "/api/context/{id}", "deleteContext"],
  get_context_id_history: ["GET", "/api/context/{id}/history", "contextHistory"],
  post_context_id_revert: ["POST", "/api/context/{id}/revert", "revertContext"],
  post_context_id_versions_version_redact:
    ["POST", "/api/context/{id}/versions/{version}/redact", "redactVersion"],
  get_agent_agent_id_contexts: ["GET", "/api/agent/{agent_id}/contexts", "listContexts"],
  post_agent_agent_id_select: ["POST", "/api/agent/{agent_id}/select", "select"],
  get_agent_agent_id_selections: ["GET", "/api/agent/{agent_id}/selections", "listSelections"],
  get_selections_selection_id: ["GET", "/api/selections/{selection_id}", "getSelection"],
  post_agent_agent_id_process: ["POST", "/api/agent/{agent_id}/process", "process"],
  post_agent_agent_id_memory: ["POST", "/api/agent/{agent_id}/memory", "memory"],
  post_context_id_grants: ["POST", "/api/context/{id}/grants", "grantContext"],
  get_context_id_grants: ["GET", "/api/context/{id}/grants", "contextGrants"],
  delete_context_id_grants_grantee: ["DELETE", "/api/context/{id}/grants/{grantee}", "revokeContext"],
  post_agent_agent_id_grants: ["POST", "/api/agent/{agent_id}/grants", "grantOwner"],
  get_agent_agent_id_grants: ["GET", "/api/agent/{agent_id}/grants", "ownerGrants"],
  delete_agent_agent_id_grants_grantee:
    ["DELETE", "/api/agent/{agent_id}/grants/{grantee}", "revokeOwner"],
  get_agent_agent_id_received_grants:
    ["GET", "/api/agent/{agent_id}/received-grants", "receivedGrants"],
  post_agents: ["POST", "/api/agents", "createAgent"],
  get_agents: ["GET", "/api/agents", "listAgents"],
  get_agents_agent_id: ["GET", "/api/agents/{agent_id}", "getAgent"],
  delete_agents_agent_id: ["DELETE", "/api/agents/{agent_id}", "disableAgent"],
  post_agents_agent_id_token: ["POST", "/api/agents/{agent_id}/token", "rotateToken"],
  get_me: ["GET", "/api/me", "me"],
  get_audit: ["GET", "/api/audit", "audit"],
  get_audit_verify: ["GET", "/api/audit/verify", "verifyAudit"],
  get_events: ["GET", "/api/events", "events"],
  get_stats: ["GET", "/api/stats", "stats"],
  get_webhooks: ["GET", "/api/webhooks", "listWebhooks"],
  post_webhooks: ["POST", "/api/webhooks", "createWebhook"],
  get_webhook: ["GET", "/api/webhooks/{webhook_id}", "getWebhook"],
  delete_webhook: ["DELETE", "/api/webhooks/{webhook_id}", "deleteWebhook"],
  get_webhook_deliveries: ["GET", "/api/webhooks/{webhook_id}/deliveries", "webhookDeliveries"],
} as const;

export type OperationId = keyof typeof OPERATIONS;

/** MCP is a protocol of its own: use an MCP client on /mcp (docs/mcp.md). */
export const NOT_WRAPPED = ["post_mcp", "get_mcp_stream", "delete_mcp"] as const;
