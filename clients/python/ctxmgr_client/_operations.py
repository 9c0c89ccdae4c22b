"""Every REST operation of docs/openapi.json as a method, written once for both clients: a method
builds its Request and hands it to ``self._send``, which the blocking client answers with the
result and the asyncio client with an awaitable of it. ``OPERATIONS`` is the table of
operationId -> (method, path) the methods are checked against (tests/test_openapi.py)."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List, Optional, Union

from ._request import Request, seg

OPERATIONS: Dict[str, tuple] = {
    "get_healthz": ("GET", "/healthz"),
    "get_readyz": ("GET", "/readyz"),
    "get_metrics": ("GET", "/metrics"),
    "get_openjson": ("GET", "/api/openapi.json"),
    "post_context": ("POST", "/api/context"),
    "get_context_id": ("GET", "/api/context/{id}"),
    "patch_context_id": ("PATCH", "/api/context/{id}"),
    "delete_context_id": ("DELETE", "/api/context/{id}"),
    "get_context_id_history": ("GET", "/api/context/{id}/history"),
    "post_context_id_revert": ("POST", "/api/context/{id}/revert"),
    "post_context_id_versions_version_redact": ("POST", "/api/context/{id}/versions/{version}/redact"),
    "get_agent_agent_id_contexts": ("GET", "/api/agent/{agent_id}/contexts"),
    "post_agent_agent_id_select": ("POST", "/api/agent/{agent_id}/select"),
    "get_agent_agent_id_selections": ("GET", "/api/agent/{agent_id}/selections"),
    "get_selections_selection_id": ("GET", "/api/selections/{selection_id}"),
    "post_agent_agent_id_process": ("POST", "/api/agent/{agent_id}/process"),
    "post_agent_agent_id_memory": ("POST", "/api/agent/{agent_id}/memory"),
    "post_context_id_grants": ("POST", "/api/context/{id}/grants"),
    "get_context_id_grants": ("GET", "/api/context/{id}/grants"),
    "delete_context_id_grants_grantee": ("DELETE", "/api/context/{id}/grants/{grantee}"),
    "post_agent_agent_id_grants": ("POST", "/api/agent/{agent_id}/grants"),
    "get_agent_agent_id_grants": ("GET", "/api/agent/{agent_id}/grants"),
    "delete_agent_agent_id_grants_grantee": ("DELETE", "/api/agent/{agent_id}/grants/{grantee}"),
    "get_agent_agent_id_received_grants": ("GET", "/api/agent/{agent_id}/received-grants"),
    "post_agents": ("POST", "/api/agents"),
    "get_agents": ("GET", "/api/agents"),
    "get_agents_agent_id": ("GET", "/api/agents/{agent_id}"),
    "delete_agents_agent_id": ("DELETE", "/api/agents/{agent_id}"),
    "post_agents_agent_id_token": ("POST", "/api/agents/{agent_id}/token"),
    "get_me": ("GET", "/api/me"),
    "get_audit": ("GET", "/api/audit"),
    "get_audit_verify": ("GET", "/api/audit/verify"),
    "get_events": ("GET", "/api/events"),
    "get_stats": ("GET", "/api/stats"),
    "get_webhooks": ("GET", "/api/webhooks"),
    "post_webhooks": ("POST", "/api/webhooks"),
    "get_webhook": ("GET", "/api/webhooks/{webhook_id}"),
    "delete_webhook": ("DELETE", "/api/webhooks/{webhook_id}"),
    "get_webhook_deliveries": ("GET", "/api/webhooks/{webhook_id}/deliveries"),
}

# MCP is a protocol of its own: use an MCP client on /mcp (docs/mcp.md).
NOT_WRAPPED = {"post_mcp": "MCP", "get_mcp_stream": "MCP", "delete_mcp": "MCP"}


def operation(op_id: str):
    """Marks a method as the client's call of `op_id` (checked against docs/openapi.json)."""

    def mark(fn):
        fn.operation_id = op_id
        return fn

    return mark


def request(op_id: str, params: Optional[Dict[str, Any]] = None, **kw: Any) -> Request:
    method, template = OPERATIONS[op_id]
    path = template.format(**{k: seg(v) for k, v in (params or {}).items()})
    return Request(method, path, **kw)


def _drop_none(d: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


class Operations:
    """The calls. Each returns the server's JSON answer (None for 204)."""

    def _send(self, req: Request) -> Any:  # pragma: no cover - the clients define it
        raise NotImplementedError

    # ---- health and documents -----------------------------------------------------------
    @operation("get_healthz")
    def health(self):
        return self._send(request("get_healthz"))

    @operation("get_readyz")
    def ready(self):
        """{"status": "ready"} (with "replicas" when the server reads from PostgreSQL replicas);
        raises CtxmgrError 503 when the storage is unreachable."""
        return self._send(request("get_readyz"))

    @operation("get_metrics")
    def metrics(self) -> str:
        return self._send(request("get_metrics", answer="text"))

    @operation("get_openjson")
    def openapi(self):
        return self._send(request("get_openjson"))

    # ---- contexts -----------------------------------------------------------------------
    @operation("post_context")
    def create_context(self, agent_id: str, context_data: Dict[str, Any],
                       metadata: Optional[Dict[str, Any]] = None,
                       idempotency_key: Union[str, bool, None] = None):
        """Creates a context. It carries an Idempotency-Key (a random one unless you give
        yours), so a retry, ours or yours with the same key, never makes two. The server derives
        such a context's id from the key; `idempotency_key=False` sends none (the id is then a
        time-ordered UUIDv7, and a create whose answer was lost is not retried)."""
        if idempotency_key is False:
            headers = {}
        else:
            headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        return self._send(request(
            "post_context", body=_drop_none(
                {"agent_id": agent_id, "context_data": context_data, "metadata": metadata}),
            headers=headers))

    @operation("get_context_id")
    def get_context(self, id: str, version: Optional[int] = None):
        return self._send(request("get_context_id", {"id": id}, query={"version": version}))

    @operation("patch_context_id")
    def update_context(self, id: str, context_data: Optional[Dict[str, Any]] = None,
                       metadata: Optional[Dict[str, Any]] = None,
                       if_version: Optional[int] = None):
        """JSON Merge Patch of data and/or metadata. With `if_version`, only when the context is
        still at that version (else CtxmgrError 412 with `current_version`)."""
        headers = {} if if_version is None else {"If-Match": f'"{int(if_version)}"'}
        return self._send(request(
            "patch_context_id", {"id": id},
            body=_drop_none({"context_data": context_data, "metadata": metadata}), headers=headers))

    @operation("delete_context_id")
    def delete_context(self, id: str, purge: bool = False):
        return self._send(request("delete_context_id", {"id": id},
                                  query={"purge": True if purge else None}))

    @operation("get_context_id_history")
    def context_history(self, id: str, limit: Optional[int] = None, cursor: Optional[str] = None):
        return self._send(request("get_context_id_history", {"id": id},
                                  query={"limit": limit, "cursor": cursor}))

    @operation("post_context_id_revert")
    def revert_context(self, id: str, version: int):
        return self._send(request("post_context_id_revert", {"id": id}, body={"version": version}))

    @operation("post_context_id_versions_version_redact")
    def redact_version(self, id: str, version: int):
        return self._send(request("post_context_id_versions_version_redact",
                                  {"id": id, "version": version}))

    @operation("get_agent_agent_id_contexts")
    def list_contexts(self, agent_id: str, limit: Optional[int] = None,
                      cursor: Optional[str] = None, tag: Optional[str] = None,
                      include_deleted: Optional[bool] = None, path_prefix: Optional[str] = None):
        return self._send(request(
            "get_agent_agent_id_contexts", {"agent_id": agent_id},
            query={"limit": limit, "cursor": cursor, "tag": tag,
                   "include_deleted": include_deleted, "path_prefix": path_prefix}))

    # ---- selection, processing, memory --------------------------------------------------
    @operation("post_agent_agent_id_select")
    def select(self, agent_id: str, query: str, **options: Any):
        """Options as API.md: limit, token_budget, selector, include_shared, filter."""
        return self._send(request("post_agent_agent_id_select", {"agent_id": agent_id},
                                  body={"query": query, **options}))

    @operation("get_agent_agent_id_selections")
    def list_selections(self, agent_id: str, limit: Optional[int] = None,
                        cursor: Optional[str] = None):
        return self._send(request("get_agent_agent_id_selections", {"agent_id": agent_id},
                                  query={"limit": limit, "cursor": cursor}))

    @operation("get_selections_selection_id")
    def get_selection(self, selection_id: int):
        return self._send(request("get_selections_selection_id", {"selection_id": selection_id}))

    @operation("post_agent_agent_id_process")
    def process(self, agent_id: str, messages: List[Dict[str, Any]], **options: Any):
        """Options as API.md: provider, model, system, context, max_tokens, temperature. The
        answer in one piece; `process_stream` gives it as it comes."""
        options.pop("stream", None)
        return self._send(request("post_agent_agent_id_process", {"agent_id": agent_id},
                                  body={"messages": messages, **options}))

    @operation("post_agent_agent_id_memory")
    def memory(self, agent_id: str, command: Dict[str, Any]):
        """One command of Claude's memory tool, exactly its `input` ({"command": "view",
        "path": "/memories"}, ...): {"content", "is_error"}."""
        return self._send(request("post_agent_agent_id_memory", {"agent_id": agent_id},
                                  body=command))

    # ---- sharing --------------------------------------------------------------------------
    @operation("post_context_id_grants")
    def grant_context(self, id: str, agent_id: str, permission: str = "read"):
        return self._send(request("post_context_id_grants", {"id": id},
                                  body={"agent_id": agent_id, "permission": permission}))

    @operation("get_context_id_grants")
    def context_grants(self, id: str):
        return self._send(request("get_context_id_grants", {"id": id}))

    @operation("delete_context_id_grants_grantee")
    def revoke_context(self, id: str, agent_id: str):
        return self._send(request("delete_context_id_grants_grantee",
                                  {"id": id, "grantee": agent_id}))

    @operation("post_agent_agent_id_grants")
    def grant_owner(self, owner: str, agent_id: str, permission: str = "read"):
        """Shares every context of `owner`, present and future."""
        return self._send(request("post_agent_agent_id_grants", {"agent_id": owner},
                                  body={"agent_id": agent_id, "permission": permission}))

    @operation("get_agent_agent_id_grants")
    def owner_grants(self, owner: str):
        return self._send(request("get_agent_agent_id_grants", {"agent_id": owner}))

    @operation("delete_agent_agent_id_grants_grantee")
    def revoke_owner(self, owner: str, agent_id: str):
        return self._send(request("delete_agent_agent_id_grants_grantee",
                                  {"agent_id": owner, "grantee": agent_id}))

    @operation("get_agent_agent_id_received_grants")
    def received_grants(self, agent_id: str, limit: Optional[int] = None,
                        cursor: Optional[str] = None):
        return self._send(request("get_agent_agent_id_received_grants", {"agent_id": agent_id},
                                  query={"limit": limit, "cursor": cursor}))

    # ---- agents ---------------------------------------------------------------------------
    @operation("post_agents")
    def create_agent(self, agent_id: str, display_name: Optional[str] = None,
                     role: Optional[str] = None):
        """{"agent": {...}, "token": "..."}: the token is shown this once."""
        return self._send(request("post_agents", body=_drop_none(
            {"agent_id": agent_id, "display_name": display_name, "role": role})))

    @operation("get_agents")
    def list_agents(self, limit: Optional[int] = None, cursor: Optional[str] = None):
        return self._send(request("get_agents", query={"limit": limit, "cursor": cursor}))

    @operation("get_agents_agent_id")
    def get_agent(self, agent_id: str):
        return self._send(request("get_agents_agent_id", {"agent_id": agent_id},
                                  shape=lambda a: a["agent"]))

    @operation("delete_agents_agent_id")
    def disable_agent(self, agent_id: str, erase: bool = False):
        """Disables the agent; with `erase`, removes everything it owns (its audit events stay)
        and answers the erasure's report."""
        return self._send(request("delete_agents_agent_id", {"agent_id": agent_id},
                                  query={"erase": True if erase else None}))

    @operation("post_agents_agent_id_token")
    def rotate_token(self, agent_id: str):
        return self._send(request("post_agents_agent_id_token", {"agent_id": agent_id}))

    @operation("get_me")
    def me(self):
        return self._send(request("get_me"))

    # ---- audit and stats ------------------------------------------------------------------
    @operation("get_audit")
    def audit(self, context_id: Optional[str] = None, agent_id: Optional[str] = None,
              action: Optional[str] = None, since: Optional[str] = None,
              until: Optional[str] = None, limit: Optional[int] = None,
              cursor: Optional[str] = None):
        return self._send(request("get_audit", query={
            "context_id": context_id, "agent_id": agent_id, "action": action, "since": since,
            "until": until, "limit": limit, "cursor": cursor}))

    @operation("get_audit_verify")
    def verify_audit(self):
        return self._send(request("get_audit_verify"))

    @operation("get_stats")
    def stats(self):
        return self._send(request("get_stats"))

    # ---- webhooks -------------------------------------------------------------------------
    @operation("post_webhooks")
    def create_webhook(self, url: str, secret: str, agent_id: Optional[str] = None,
                       context_id: Optional[str] = None, action: Optional[str] = None):
        return self._send(request("post_webhooks", body=_drop_none(
            {"url": url, "secret": secret, "agent_id": agent_id, "context_id": context_id,
             "action": action})))

    @operation("get_webhooks")
    def list_webhooks(self):
        return self._send(request("get_webhooks"))

    @operation("get_webhook")
    def get_webhook(self, webhook_id: str):
        return self._send(request("get_webhook", {"webhook_id": webhook_id}))

    @operation("delete_webhook")
    def delete_webhook(self, webhook_id: str):
        return self._send(request("delete_webhook", {"webhook_id": webhook_id}))

    @operation("get_webhook_deliveries")
    def webhook_deliveries(self, webhook_id: str, limit: Optional[int] = None,
                           cursor: Optional[str] = None):
        return self._send(request("get_webhook_deliveries", {"webhook_id": webhook_id},
                                  query={"limit": limit, "cursor": cursor}))
