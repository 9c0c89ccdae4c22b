"""Claude's memory tool served by Context Manager: every command the model sends goes to
POST /api/agent/{id}/memory (docs/memory-tool.md), so memory files are versioned, shared,
audited contexts. The methods are those of the Anthropic Python SDK's BetaAbstractMemoryTool
(view, create, str_replace, insert, delete, rename, clear_all_memory); with `anthropic`
installed the class is one, and `client.beta.messages.run_tools(tools=[MemoryTool(...)])` runs it.
Without it, `execute(input)` answers a tool_use block's input by hand."""

from __future__ import annotations

from typing import Any, Dict

try:  # the SDK's own base class and error, when it is installed
    from anthropic.lib.tools import BetaAbstractMemoryTool as _Base

    try:
        from anthropic.lib.tools import ToolError
    except ImportError:  # older layouts
        from anthropic.lib.tools._beta_functions import ToolError
except ImportError:

    class _Base:  # type: ignore[no-redef]
        def __init__(self, **_: Any) -> None:
            pass

    class ToolError(Exception):  # type: ignore[no-redef]
        """The model's mistake (no such file, old_str absent): its text goes back to the model
        as an error result."""


def _as_input(command: Any) -> Dict[str, Any]:
    """A command object of the SDK (a pydantic model) or a plain dict, as the tool's input."""
    if isinstance(command, dict):
        return {k: v for k, v in command.items() if v is not None}
    if hasattr(command, "model_dump"):
        return command.model_dump(exclude_none=True)
    return {k: v for k, v in vars(command).items() if v is not None and not k.startswith("_")}


class MemoryTool(_Base):
    """MemoryTool(client, agent_id): the memory of `agent_id`, through a Client (blocking)."""

    def __init__(self, client: Any, agent_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client
        self.agent_id = agent_id

    def _run(self, command: Any) -> str:
        answer = self.client.memory(self.agent_id, _as_input(command))
        if answer.get("is_error"):
            raise ToolError(answer.get("content", ""))
        return answer.get("content", "")

    def execute(self, command: Any) -> str:  # the SDK's dispatcher does the same by type
        return self._run(command)

    def view(self, command: Any) -> str:
        return self._run(command)

    def create(self, command: Any) -> str:
        return self._run(command)

    def str_replace(self, command: Any) -> str:
        return self._run(command)

    def insert(self, command: Any) -> str:
        return self._run(command)

    def delete(self, command: Any) -> str:
        return self._run(command)

    def rename(self, command: Any) -> str:
        return self._run(command)

    def clear_all_memory(self) -> str:
        """Deletes every memory file of the agent (each stays in its history, as any delete)."""
        n = 0
        for ctx in self.client.pages(self.client.list_contexts, self.agent_id,
                                     path_prefix="/memories/", limit=1000):
            self.client.delete_context(ctx["id"])
            n += 1
        return f"Deleted {n} memory file(s)"
