"""The asyncio client: the same calls as Client, awaited, over httpx (pip install
"ctxmgr-client[async]"; Debian: python3-httpx). Importing it without httpx raises ImportError."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Dict, Optional

import httpx

from ._operations import Operations, operation, request
from ._request import (RETRYABLE, ReadYourWrites, Request, RetryPolicy, may_retry_unanswered,
                       result)
from ._sse import SseParser
from .client import USER_AGENT, ConsistencyToken, identity_headers
from .errors import CtxmgrError, error_from_answer


class AsyncClient(Operations, ConsistencyToken):
    """async with AsyncClient(url, token=...) as client: await client.get_context(id).
    `read_your_writes` as in Client."""

    def __init__(self, base_url: str, *, token: Optional[str] = None,
                 agent_id: Optional[str] = None, timeout: float = 30.0,
                 retry: Optional[RetryPolicy] = None, read_your_writes: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._consistency = ReadYourWrites(read_your_writes)
        self._http = httpx.AsyncClient(
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT,
                     **identity_headers(token, agent_id)})

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _build(self, req: Request) -> httpx.Request:
        headers = {**self._consistency.headers(), **req.headers}
        if req.body is not None:
            headers["Content-Type"] = "application/json"
        return self._http.build_request(req.method, req.url(self.base_url), content=req.data(),
                                        headers=headers)

    async def _exchange(self, req: Request, stream: bool) -> httpx.Response:
        attempt = 0
        while True:
            try:
                answer = await self._http.send(self._build(req), stream=stream)
            except httpx.TransportError as e:
                if may_retry_unanswered(req) and attempt < self.retry.max_retries:
                    await asyncio.sleep(self.retry.delay(attempt, None))
                    attempt += 1
                    continue
                raise CtxmgrError(0, "connection", f"{req.method} {req.path}: {e}") from None
            if 200 <= answer.status_code < 300:
                self._consistency.saw(answer.headers.get(ReadYourWrites.HEADER))
                return answer
            text = (await answer.aread()).decode("utf-8", "replace")
            await answer.aclose()
            if answer.status_code in RETRYABLE and attempt < self.retry.max_retries:
                await asyncio.sleep(self.retry.delay(attempt, answer.headers.get("Retry-After")))
                attempt += 1
                continue
            raise error_from_answer(answer.status_code, text, answer.headers.get("X-Request-Id"))

    async def _send(self, req: Request) -> Any:
        answer = await self._exchange(req, stream=False)
        return result(req, answer.status_code, answer.text)

    async def pages(self, method, *args: Any, **kwargs: Any) -> AsyncIterator[Dict[str, Any]]:
        """Every item of a paged call: async for c in client.pages(client.list_contexts, "a")."""
        cursor = kwargs.pop("cursor", None)
        while True:
            page = await method(*args, cursor=cursor, **kwargs)
            for item in page["items"]:
                yield item
            cursor = page.get("next_cursor")
            if not cursor:
                return

    @operation("get_events")
    async def events(self, agent_id: Optional[str] = None, context_id: Optional[str] = None,
                     action: Optional[str] = None,
                     after: Optional[int] = None) -> AsyncIterator[dict]:
        """As Client.events, asynchronously."""
        req = request("get_events", query={"agent_id": agent_id, "context_id": context_id,
                                           "action": action, "after": after},
                      headers={"Accept": "text/event-stream"})
        answer = await self._exchange(req, stream=True)
        parser = SseParser()
        try:
            async for line in answer.aiter_lines():
                ev = parser.line(line.rstrip("\r\n"))
                if ev is not None:
                    yield ev.data
        finally:
            await answer.aclose()
