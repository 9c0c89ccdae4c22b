"""The blocking client, on the standard library alone (urllib)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any, Dict, Iterator, List, Optional

from ._operations import Operations, operation, request
from ._request import (RETRYABLE, ReadYourWrites, Request, RetryPolicy, may_retry_unanswered,
                       result)
from ._sse import SseParser
from .errors import CtxmgrError, error_from_answer

USER_AGENT = "ctxmgr-client-python/1.0"


def identity_headers(token: Optional[str], agent_id: Optional[str]) -> Dict[str, str]:
    """A bearer token (token mode), or the agent named in X-Agent-Id (trust mode, loopback)."""
    if token and agent_id:
        raise ValueError("give a token (token mode) or an agent_id (trust mode), not both")
    if token:
        return {"Authorization": f"Bearer {token}"}
    if agent_id:
        return {"X-Agent-Id": agent_id}
    return {}


class ConsistencyToken:
    """What both clients share about read-your-writes (docs/scaling.md)."""

    _consistency: ReadYourWrites

    @property
    def consistency_token(self) -> Optional[str]:
        """The newest consistency token this client was answered (None before its first write)."""
        return self._consistency.token

    def use_consistency_token(self, token: str) -> None:
        """Adopts a token another client was answered (an agent handing its writes to another):
        this client's reads then see those writes too. The newer of the two tokens is kept."""
        self._consistency.saw(token)


class Client(Operations, ConsistencyToken):
    """Client("http://127.0.0.1:5000", token=...) or Client(url, agent_id="alice") in trust mode.

    Thread-safe: each call opens its own connection. Every failure raises CtxmgrError.
    `read_your_writes` (on by default) sends back the newest X-Ctxmgr-Consistency token a write
    was answered, so that reads see this client's writes on a server reading from replicas.
    """

    def __init__(self, base_url: str, *, token: Optional[str] = None,
                 agent_id: Optional[str] = None, timeout: float = 30.0,
                 retry: Optional[RetryPolicy] = None, read_your_writes: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._headers = {"Accept": "application/json", "User-Agent": USER_AGENT,
                         **identity_headers(token, agent_id)}
        self._consistency = ReadYourWrites(read_your_writes)

    # ---- one request, retried -----------------------------------------------------------
    def _open(self, req: Request, timeout: Optional[float]):
        http = urllib.request.Request(req.url(self.base_url), data=req.data(), method=req.method,
                                      headers={**self._headers, **self._consistency.headers(),
                                               **req.headers})
        if req.body is not None:
            http.add_header("Content-Type", "application/json")
        return urllib.request.urlopen(http, timeout=timeout)

    def _exchange(self, req: Request, timeout: Optional[float]):
        """The open answer of the first attempt that is not retried; raises CtxmgrError."""
        attempt = 0
        while True:
            try:
                answer = self._open(req, timeout)
                self._consistency.saw(answer.headers.get(ReadYourWrites.HEADER))
                return answer
            except urllib.error.HTTPError as e:
                text = e.read().decode("utf-8", "replace")
                if e.code in RETRYABLE and attempt < self.retry.max_retries:
                    time.sleep(self.retry.delay(attempt, e.headers.get("Retry-After")))
                    attempt += 1
                    continue
                raise error_from_answer(e.code, text, e.headers.get("X-Request-Id")) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                if may_retry_unanswered(req) and attempt < self.retry.max_retries:
                    time.sleep(self.retry.delay(attempt, None))
                    attempt += 1
                    continue
                reason = getattr(e, "reason", e)
                raise CtxmgrError(0, "connection", f"{req.method} {req.path}: {reason}") from None

    def _send(self, req: Request) -> Any:
        with self._exchange(req, self.timeout) as answer:
            return result(req, answer.status, answer.read().decode("utf-8"))

    # ---- pages ----------------------------------------------------------------------------
    def pages(self, method, *args: Any, **kwargs: Any) -> Iterator[Dict[str, Any]]:
        """Every item of a paged call, page after page: pages(client.audit, action="update")."""
        cursor = kwargs.pop("cursor", None)
        while True:
            page = method(*args, cursor=cursor, **kwargs)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def iter_contexts(self, agent_id: str, **kwargs: Any) -> Iterator[Dict[str, Any]]:
        return self.pages(self.list_contexts, agent_id, **kwargs)

    def iter_history(self, id: str, **kwargs: Any) -> Iterator[Dict[str, Any]]:
        return self.pages(self.context_history, id, **kwargs)

    def iter_audit(self, **kwargs: Any) -> Iterator[Dict[str, Any]]:
        return self.pages(self.audit, **kwargs)

    # ---- streams --------------------------------------------------------------------------
    def _stream(self, req: Request) -> Iterator[Any]:
        parser = SseParser()
        with self._exchange(req, None) as answer:
            for raw in answer:
                ev = parser.line(raw.decode("utf-8").rstrip("\r\n"))
                if ev is not None:
                    yield ev

    @operation("get_events")
    def events(self, agent_id: Optional[str] = None, context_id: Optional[str] = None,
               action: Optional[str] = None, after: Optional[int] = None) -> Iterator[dict]:
        """The change feed (docs/events.md) as it happens: each event a dict with its `seq`.
        Resume after a drop with `after=<the last seq seen>`. Ends when the server closes the
        stream; the iterator's close() closes it from this side."""
        req = request("get_events", query={"agent_id": agent_id, "context_id": context_id,
                                           "action": action, "after": after},
                      headers={"Accept": "text/event-stream"})
        for ev in self._stream(req):
            yield ev.data

    def process_stream(self, agent_id: str, messages: List[Dict[str, Any]],
                       **options: Any) -> Iterator[str]:
        """`process` with "stream": true: yields the text as the provider writes it; returns
        (StopIteration.value) the final answer. An `error` event raises CtxmgrError."""
        req = request("post_agent_agent_id_process", {"agent_id": agent_id},
                      body={"messages": messages, **options, "stream": True},
                      headers={"Accept": "text/event-stream"})
        for ev in self._stream(req):
            if ev.event == "delta":
                yield ev.data.get("text", "")
            elif ev.event == "done":
                return ev.data
            elif ev.event == "error":
                err = ev.data.get("error", {})
                raise CtxmgrError(502, err.get("code", "unknown"), err.get("message", ""),
                                  err.get("request_id"), err)
        return None
