"""The live event stream: `GET /api/v1/events/stream`, Server-Sent Events (DESIGN §9).

    : connected at 1041
    retry: 3000

    data: {"context": {"id": "evt_…_0", "type": "dev.opsportal.deployment.succeeded.v1", …}, …}
    data: {"context": {"id": "evt_…_1", "type": "dev.cdevents.service.upgraded.0.3.0", …}, …}  (one per `data` event)
    id: 1042

    : heartbeat

Every event is one SSE message whose `data` is the event's JSON payload (the same bytes a webhook
receives). `id` is the event's sequence (the audit `seq`): it is written after the last event of a
sequence, so a client that reconnects with `Last-Event-ID` gets every event after it, none twice
(EventSource does this by itself). A comment line every `OPSPORTAL_SSE_HEARTBEAT_SECONDS` (15) keeps
proxies from closing an idle stream. A stream ends after `OPSPORTAL_SSE_MAX_SECONDS`; the client
reconnects and resumes.

How open streams stay cheap (the process's threads serve the API too; see README "Webhooks and
events"): the streams of one process share one buffer of the newest events (`RecentEvents`). At most
every `POLL_SECONDS` one of them — whichever finds the buffer stale first — reads the events after the
newest it holds (`seq > N`, one indexed range read); the others read the buffer. A stream only reads
the database itself to catch up from further back than the buffer reaches. After each database use a
stream thread closes its connection: an open stream holds a thread, not a database connection.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from events.catalogue import names_matching
from events.models import Event
from opsportal.errors import ApplicationError

POLL_SECONDS = 0.5
BUFFER_SIZE = 2000
BATCH = 500
RETRY_MS = 3000


@dataclass(frozen=True)
class EventFilter:
    """What a stream (or list) lets through, like a subscription's filters; empty means anything."""

    names: frozenset[str] | None = None
    environments: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *, types: list[str], environments: list[str], teams: list[str]) -> EventFilter:
        return cls(
            names=frozenset(names_matching(types)) if types else None,
            environments=frozenset(environments),
            teams=frozenset(teams),
        )

    def matches(self, *, name: str, team: str, environment: str) -> bool:
        return (
            (self.names is None or name in self.names)
            and (not self.environments or environment in self.environments)
            and (not self.teams or team in self.teams)
        )

    def apply(self, queryset: Any) -> Any:
        if self.names is not None:
            queryset = queryset.filter(name__in=sorted(self.names))
        if self.environments:
            queryset = queryset.filter(environment__in=sorted(self.environments))
        if self.teams:
            queryset = queryset.filter(team__in=sorted(self.teams))
        return queryset


@dataclass(frozen=True)
class StreamedEvent:
    id: str
    seq: int
    name: str
    team: str
    environment: str
    data: str  # the payload as JSON text


_FIELDS = ("id", "seq", "name", "team", "environment", "payload")


def _streamed(row: dict[str, Any]) -> StreamedEvent:
    payload = row.pop("payload")
    return StreamedEvent(**row, data=json.dumps(payload, separators=(",", ":"), ensure_ascii=False))


def _release_connections() -> None:
    """A stream holds a thread, not a database connection (on MongoDB each connection is a client).
    Never a connection inside a transaction (a test's)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.connection is not None and not connection.in_atomic_block:
        connection.close()


def _whole_sequences(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """A full page cut before its last sequence (unless that is all there is): a sequence is never split."""
    if len(rows) < limit:
        return rows
    last = rows[-1]["seq"]
    kept = [row for row in rows if row["seq"] != last]
    return kept or rows


def events_after(position: int, *, up_to: int | None = None, filters: EventFilter | None = None) -> list[StreamedEvent]:
    """Events with `position < seq (<= up_to)`, matching `filters`, in order (at most one page, whole sequences)."""
    queryset = Event.objects.filter(seq__gt=position)
    if up_to is not None:
        queryset = queryset.filter(seq__lte=up_to)
    if filters is not None:
        queryset = filters.apply(queryset)
    rows = list(queryset.order_by("seq", "index").values(*_FIELDS)[:BATCH])
    return [_streamed(row) for row in _whole_sequences(rows, BATCH)]


def latest_sequence() -> int:
    return Event.objects.order_by("-seq", "-index").values_list("seq", flat=True).first() or 0


class RecentEvents:
    """The newest events, shared by the streams of one process (see the module docstring)."""

    def __init__(self, size: int = BUFFER_SIZE) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._events: deque[StreamedEvent] = deque()
        self._head: int | None = None  # every event up to this sequence is known
        self._floor = 0  # events up to this sequence may have left the buffer
        self._polled_at = 0.0

    def reset(self) -> None:
        with self._lock:
            self._events.clear()
            self._head, self._floor, self._polled_at = None, 0, 0.0

    def refresh(self) -> int:
        """The newest sequence known, reading the database if the buffer is older than `POLL_SECONDS` and
        no other stream is reading it right now."""
        if self._head is not None and time.monotonic() - self._polled_at < POLL_SECONDS:
            return self._head
        if not self._lock.acquire(blocking=self._head is None):
            return self._head or 0  # another stream is polling: its result will do
        try:
            if self._head is not None and time.monotonic() - self._polled_at < POLL_SECONDS:
                return self._head
            try:
                if self._head is None:
                    self._head = self._floor = latest_sequence()
                else:
                    fresh = events_after(self._head)
                    if fresh:
                        self._events.extend(fresh)
                        self._head = fresh[-1].seq
                        while len(self._events) > self.size:
                            self._floor = self._events.popleft().seq
            finally:
                _release_connections()
            self._polled_at = time.monotonic()
            return self._head
        finally:
            self._lock.release()

    def after(self, position: int) -> list[StreamedEvent] | None:
        """The buffered events after `position`; None when the buffer does not reach back that far."""
        with self._lock:
            if self._head is None or position < self._floor:
                return None
            return [event for event in self._events if event.seq > position]


RECENT = RecentEvents()


class StreamsFull(ApplicationError):
    """503: this process holds `OPSPORTAL_SSE_MAX_STREAMS` streams; the client retries after `Retry-After`."""

    status_code = 503
    code = "streams_full"


STREAMS_FULL = StreamsFull("This server has as many open event streams as it serves; retry shortly.")
STREAMS_RETRY_AFTER_SECONDS = 5


class StreamSlots:
    """How many streams this process has open; beyond `limit` a new stream is refused (503)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0

    def take(self, limit: int) -> bool:
        with self._lock:
            if self.open >= limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1


SLOTS = StreamSlots()


def format_events(events: list[StreamedEvent]) -> str:
    """SSE messages; `id:` after the last event of each sequence."""
    lines: list[str] = []
    for number, event in enumerate(events):
        lines.append(f"data: {event.data}\n")
        last_of_sequence = number + 1 == len(events) or events[number + 1].seq != event.seq
        if last_of_sequence:
            lines.append(f"id: {event.seq}\n")
        lines.append("\n")
    return "".join(lines)


def next_events(
    position: int, *, head: int, filters: EventFilter, recent: RecentEvents = RECENT
) -> tuple[list[StreamedEvent], int]:
    """The events after `position` that match `filters` (whole sequences, in order) and the position to read
    from next: from the shared buffer, or from the database when the buffer does not reach back that far
    (then at most one page, up to `head`). Also what GraphQL subscriptions read (`graphql_api.subscriptions`)."""
    buffered = recent.after(position)
    if buffered is None:  # further back than the buffer: read the database
        page = events_after(position, up_to=head, filters=filters)
        _release_connections()
        return page, page[-1].seq if page else head
    matching = [e for e in buffered if filters.matches(name=e.name, team=e.team, environment=e.environment)]
    return matching, buffered[-1].seq if buffered else max(position, head)


def event_stream(
    *,
    position: int | None,
    filters: EventFilter,
    heartbeat_seconds: float,
    max_seconds: float,
    recent: RecentEvents = RECENT,
    slots: StreamSlots | None = None,
) -> Iterator[str]:
    """The stream's text, from after `position` (None: from now on), until `max_seconds` have passed.
    `slots`: the slot this stream took, given back when it ends (however it ends)."""
    try:
        _release_connections()  # authentication and throttling used it; the stream does not need it
        head = recent.refresh()
        if position is None or position > head:
            position = head
        yield f": connected at {position}\nretry: {RETRY_MS}\n\n"
        started = last_write = time.monotonic()
        while time.monotonic() - started < max_seconds:
            matching, position = next_events(position, head=head, filters=filters, recent=recent)
            if matching:
                yield format_events(matching)
                last_write = time.monotonic()
                continue
            if time.monotonic() - last_write >= heartbeat_seconds:
                yield ": heartbeat\n\n"
                last_write = time.monotonic()
            time.sleep(POLL_SECONDS / 2)
            head = recent.refresh()
    finally:
        if slots is not None:
            slots.give_back()
