"""Server-sent events as the server writes them (GET /api/events, a streamed process): lines of
`id:`, `event:`, `data:`, comments (`: heartbeat`) and `retry:`, an empty line ending an event."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, List, Optional


@dataclass
class Event:
    event: str  # "message" when the server named none
    id: Optional[str]
    data: Any  # the JSON of the data lines


class SseParser:
    def __init__(self) -> None:
        self._data: List[str] = []
        self._event: Optional[str] = None
        self._id: Optional[str] = None

    def line(self, line: str) -> Optional[Event]:
        """Feeds one line (without its end); returns the event an empty line completes."""
        if line == "":
            if not self._data:
                self._event = None
                return None
            text = "\n".join(self._data)
            ev = Event(self._event or "message", self._id, json.loads(text))
            self._data, self._event = [], None
            return ev
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        return None
