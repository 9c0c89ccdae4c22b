"""The one error every failed call raises: the server's error body (API.md: Errors) and status."""

from __future__ import annotations

from typing import Any, Optional


class CtxmgrError(Exception):
    """A call that failed: an error answer of the server, or no answer at all (status 0).

    ``code`` is the API's error code (``not_found``, ``precondition_failed``, ...; ``connection``
    when the server could not be reached), ``request_id`` the ``X-Request-Id`` to look for in the
    server's log, and ``body`` the whole ``error`` object (a 412 carries ``current_version``).
    """

    def __init__(self, status: int, code: str, message: str,
                 request_id: Optional[str] = None, body: Optional[dict] = None):
        super().__init__(f"{status} {code}: {message}" +
                         (f" (request id {request_id})" if request_id else ""))
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.body = body or {}

    @property
    def current_version(self) -> Optional[int]:
        """For a 412: the context's version now, to read again and retry."""
        value: Any = self.body.get("current_version")
        return value if isinstance(value, int) else None


def error_from_answer(status: int, text: str, request_id: Optional[str]) -> CtxmgrError:
    """The error of an answer whose status is not 2xx (a body that is not the API's is kept)."""
    import json

    try:
        err = json.loads(text)["error"]
        return CtxmgrError(status, err.get("code", "unknown"), err.get("message", ""),
                           err.get("request_id", request_id), err)
    except (ValueError, KeyError, TypeError, AttributeError):
        return CtxmgrError(status, "unknown", text[:200] or f"HTTP {status}", request_id)
