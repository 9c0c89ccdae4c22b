"""Context Manager's Python client: Client (blocking, standard library), AsyncClient (asyncio,
needs httpx), CtxmgrError, and the adapters MemoryTool (Claude's memory tool) and Session (the
OpenAI Agents SDK's session protocol)."""

from ._request import RetryPolicy
from .client import Client
from .errors import CtxmgrError
from .memory_tool import MemoryTool
from .openai_session import Session

__all__ = ["Client", "AsyncClient", "CtxmgrError", "MemoryTool", "RetryPolicy", "Session"]
__version__ = "1.0.0"


def __getattr__(name):  # AsyncClient only when asked for: it needs httpx
    if name == "AsyncClient":
        from .async_client import AsyncClient

        return AsyncClient
    raise AttributeError(name)
