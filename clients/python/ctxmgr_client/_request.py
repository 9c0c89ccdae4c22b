"""What a call sends and how it is retried: shared by the blocking and the asyncio clients, so
both build the same requests and wait the same way."""

from __future__ import annotations

import email.utils
import json
import random
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional

# Statuses worth another try: the server asked to slow down, or could not serve right now.
RETRYABLE = (429, 503)


@dataclass
class Request:
    method: str
    path: str  # with its parameters already quoted
    query: Dict[str, Any] = field(default_factory=dict)
    body: Any = None  # JSON-encoded when not None
    headers: Dict[str, str] = field(default_factory=dict)
    # What the caller gets: the JSON answer (None for 204), through `shape` when given; or the
    # text for "text" answers (metrics).
    answer: str = "json"
    shape: Optional[Callable[[Any], Any]] = None

    def url(self, base_url: str) -> str:
        q = {k: _query_text(v) for k, v in self.query.items() if v is not None}
        return base_url + self.path + ("?" + urllib.parse.urlencode(q) if q else "")

    def data(self) -> Optional[bytes]:
        if self.body is None:
            return None
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


def _query_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def seg(value: Any) -> str:
    """One path segment, quoted (an id never reaches the server as a path of its own)."""
    return urllib.parse.quote(str(value), safe="")


def result(req: Request, status: int, text: str) -> Any:
    if req.answer == "text":
        return text
    value = json.loads(text) if text else None
    return req.shape(value) if req.shape else value


@dataclass
class RetryPolicy:
    """429 and 503 are tried again up to `max_retries` times. The wait is the answer's
    Retry-After (seconds or an HTTP date) when it gives one up to `max_wait`, else
    `base_delay` * 2^n (capped at `max_wait`) with up to a quarter of jitter. A failed connection
    is retried the same way for requests that change nothing (GET) and for creates, which carry
    an idempotency key."""

    max_retries: int = 3
    base_delay: float = 0.5
    max_wait: float = 30.0

    def delay(self, attempt: int, retry_after: Optional[str]) -> float:
        given = parse_retry_after(retry_after)
        if given is not None and 0 <= given <= self.max_wait:
            return given
        d = min(self.max_wait, self.base_delay * (2 ** attempt))
        return d * (0.75 + random.random() * 0.25)


def parse_retry_after(text: Optional[str]) -> Optional[float]:
    if not text:
        return None
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def may_retry_unanswered(req: Request) -> bool:
    return req.method in ("GET", "HEAD") or "Idempotency-Key" in req.headers


class ReadYourWrites:
    """The newest X-Ctxmgr-Consistency token a client was answered (docs/scaling.md), sent back
    with every later request so that a server reading from PostgreSQL replicas serves the client's
    reads only where its writes are visible. Thread-safe. Costs nothing without replicas: no
    answer carries a token then."""

    HEADER = "X-Ctxmgr-Consistency"
    _POSITION = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._token: Optional[str] = None
        self._lock = threading.Lock()

    @classmethod
    def _position(cls, token: Optional[str]) -> Optional[int]:
        m = cls._POSITION.fullmatch(token) if token else None
        return (int(m.group(1), 16) << 32) | int(m.group(2), 16) if m else None

    @property
    def token(self) -> Optional[str]:
        with self._lock:
            return self._token

    def saw(self, token: Optional[str]) -> None:
        """Keeps `token` if it is newer than the one kept (or either is not a WAL position)."""
        if not token:
            return
        with self._lock:
            current, given = self._position(self._token), self._position(token)
            if current is None or given is None or given > current:
                self._token = token

    def headers(self) -> Dict[str, str]:
        token = self.token
        return {self.HEADER: token} if self.enabled and token else {}
