"""A conversation history for the OpenAI Agents SDK kept in Context Manager: the SDK's `Session`
protocol (session_id; async get_items, add_items, pop_item, clear_session). The session is one
context of the agent, {"items": [...]}, tagged "openai-agents-session": every change is a version
(its history is the conversation's), shared and audited like any context. Changes are made with
If-Match and retried on a conflict, so writers in several processes never lose an item."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, List, Optional

from .errors import CtxmgrError

TAG = "openai-agents-session"


class Session:
    """Session(session_id, client, agent_id): works with Client (run in a thread) or
    AsyncClient (awaited)."""

    def __init__(self, session_id: str, client: Any, agent_id: str,
                 max_conflicts: int = 10) -> None:
        self.session_id = session_id
        self._client = client
        self._agent_id = agent_id
        self._max_conflicts = max_conflicts
        self._context_id: Optional[str] = None

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self._client, name)
        if inspect.iscoroutinefunction(getattr(type(self._client), "_send", None)):
            return await method(*args, **kwargs)
        return await asyncio.to_thread(method, *args, **kwargs)

    async def _context(self) -> dict:
        """The session's context, made on first use. Its idempotency key names the session, so
        every process (and every retry) gets the same context."""
        if self._context_id is None:
            made = await self._call(
                "create_context", self._agent_id, {"items": []},
                metadata={"tags": [TAG], "session_id": self.session_id},
                idempotency_key=f"{TAG}:{self.session_id}")
            self._context_id = made["id"]
        return await self._call("get_context", self._context_id)

    async def _change(self, edit) -> Any:
        """Reads the items, lets `edit` change the list (returning what to answer), writes them
        back if the context is still at the version read; on a conflict reads again."""
        for _ in range(self._max_conflicts):
            ctx = await self._context()
            before = list(ctx["context_data"].get("items", []))
            items = list(before)
            out = edit(items)
            if items == before:  # nothing to write (pop or clear of an empty session)
                return out
            try:
                await self._call("update_context", ctx["id"], {"items": items},
                                 if_version=ctx["version"])
                return out
            except CtxmgrError as e:
                if e.status != 412:
                    raise
        raise CtxmgrError(409, "conflict", "the session kept changing; gave up")

    async def get_items(self, limit: Optional[int] = None) -> List[Any]:
        items = (await self._context())["context_data"].get("items", [])
        if limit is None:
            return items
        return items[-limit:] if limit > 0 else []

    async def add_items(self, items: List[Any]) -> None:
        if items:
            await self._change(lambda current: current.extend(items))

    async def pop_item(self) -> Optional[Any]:
        return await self._change(lambda current: current.pop() if current else None)

    async def clear_session(self) -> None:
        await self._change(lambda current: current.clear())
