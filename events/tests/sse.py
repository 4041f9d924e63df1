"""A small Server-Sent Events client for the tests, over `http.client` (what a script or a browser's
EventSource does: read the stream line by line, dispatch a message at each blank line, remember `id`)."""

from __future__ import annotations

import http.client
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit


@dataclass
class Message:
    data: dict[str, Any]
    last_event_id: str  # the stream's last event id once this message was dispatched


@dataclass
class EventStream:
    base_url: str
    token: str | None = None
    last_event_id: str = ""
    query: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    heartbeats: int = 0
    comments: list[str] = field(default_factory=list)

    def open(self) -> EventStream:
        parts = urlsplit(self.base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        headers = {"Accept": "text/event-stream"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        path = "/api/v1/events/stream" + (f"?{urlencode(self.query)}" if self.query else "")
        self.connection.request("GET", path, headers=headers)
        self.response = self.connection.getresponse()
        # Lines are read on a thread of their own: a socket that timed out cannot be read again.
        self._lines: queue.Queue[bytes] = queue.Queue()
        self._reader = threading.Thread(target=self._read_lines, daemon=True)
        self._reader.start()
        return self

    def _read_lines(self) -> None:
        self.connection.sock.settimeout(None)
        try:
            while raw := self.response.readline():
                self._lines.put(raw)
        except Exception:  # noqa: BLE001, S110 - closed by the test, or by the server: the stream has ended
            pass
        self._lines.put(b"")

    @property
    def status(self) -> int:
        return self.response.status

    def read(self, count: int, timeout: float | None = None) -> list[Message]:
        """The next `count` messages (fewer if `timeout` passes first; `count` 0: whatever comes until then)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        messages: list[Message] = []
        data: list[str] = []
        while (count == 0 or len(messages) < count) and time.monotonic() < deadline:
            try:
                raw = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if not raw:
                break
            line = raw.decode().rstrip("\n").rstrip("\r")
            if line == "":
                if data:
                    messages.append(Message(json.loads("\n".join(data)), self.last_event_id))
                    data = []
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                self.heartbeats += line.strip() == ": heartbeat"
                continue
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "data":
                data.append(value)
            elif key == "id":
                self.last_event_id = value
        return messages

    def close(self) -> None:
        self.response.close()
        self.connection.close()
