"""GraphQL subscriptions, fed by the same event source as the SSE stream (`events.stream`).

- `events(filter, after)`: every event of the catalogue that matches the filter (the SSE stream's and the
  webhooks' filters), one message per committed change (an audit event's sequence and its events).
- `release(id, after)`: the changes of one release: the events about it, with the release as it is after.

A subscription ends (`token_expired`) at the first change after its JWT or API token expired, before
sending it: the client subscribes again with a fresh credential and `after`, and misses nothing.

`after` is a sequence: the subscription sends every change after it, none twice, in order — from the
shared buffer of recent events, or from the outbox when it reaches further back (`events.stream.next_events`).
Without `after` it starts at the newest change. A client that reconnects passes the `seq` of the last
message it received. An idle subscription costs no thread and no database connection: it sleeps on the
event loop, and the process's streams share one poll of the outbox every `events.stream.POLL_SECONDS`.
Other reads use channels' `database_sync_to_async`, which closes the connections Django would close at the
end of a request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

import strawberry
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.http import QueryDict
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import Info

from events.filtersets import MAX_SEQUENCE, EventFilterSet
from events.models import Event as EventModel
from events.stream import POLL_SECONDS, RECENT, EventFilter, StreamedEvent, next_events
from graphql_api.auth import require_read
from graphql_api.errors import error_extensions, error_message
from graphql_api.types import Batch, Release, preload
from opsportal.errors import ValidationFailed
from releases.models import Release as ReleaseModel


@strawberry.input(description="As the filters of the SSE stream and of webhook subscriptions; empty: anything.")
class EventFilterInput:
    types: list[str] | None = strawberry.field(
        default=None, description="Event names, types or patterns, e.g. `release.*`, `service.deployed`."
    )
    environments: list[str] | None = strawberry.field(default=None, description="Environment ids.")
    teams: list[str] | None = strawberry.field(default=None, description="Team ids.")


@strawberry.type(description="One event: its CDEvents payload exactly as webhooks receive it.")
class Event:
    id: str
    seq: int
    name: str
    team: str
    environment: str
    payload: JSON


@strawberry.type(description="One committed change: its sequence and the events it gave (in order).")
class EventSequence:
    seq: int
    events: list[Event]


@strawberry.type(description="A change of a release: the events about it, and the release after the change.")
class ReleaseChange:
    seq: int
    events: list[Event]
    release: Release | None = strawberry.field(description="Null once the release is deleted.")


def _event(streamed: StreamedEvent) -> Event:
    return Event(
        id=streamed.id,
        seq=streamed.seq,
        name=streamed.name,
        team=streamed.team,
        environment=streamed.environment,
        payload=json.loads(streamed.data),
    )


def event_filter(filter: EventFilterInput | None) -> EventFilter:
    """The stream's `EventFilterSet` validates the filter (a pattern that matches no type is refused)."""
    params = QueryDict(mutable=True)
    if filter is not None:
        for key, values in (("types", filter.types), ("environment", filter.environments), ("team", filter.teams)):
            if values:
                params[key] = ",".join(values)
    filterset = EventFilterSet(params, queryset=EventModel.objects.none())
    if not filterset.is_valid():
        raise ValidationFailed({key: [str(m) for m in messages] for key, messages in filterset.errors.items()})
    return filterset.event_filter()


async def sequences(*, after: int | None, filters: EventFilter) -> AsyncGenerator[list[StreamedEvent], None]:
    """The matching events after `after` (None: from now on), one committed change at a time, forever."""
    head = await sync_to_async(RECENT.refresh)()
    position = head if after is None or after > head else after
    while True:
        matching, position = await sync_to_async(next_events)(position, head=head, filters=filters)
        for _seq, events in groupby(matching, key=lambda event: event.seq):
            yield list(events)
        if not matching:
            await asyncio.sleep(POLL_SECONDS / 2)
            head = await sync_to_async(RECENT.refresh)()


def about_release(event: StreamedEvent, release_id: str) -> bool:
    """Whether the event concerns the release: its subject is the release, or a deployment of it."""
    subject = json.loads(event.data).get("subject") or {}
    if subject.get("source") == f"/api/v1/releases/{release_id}":
        return True
    release = (subject.get("content") or {}).get("release")
    return isinstance(release, dict) and release.get("id") == release_id


def _read_release(release_id: str) -> ReleaseModel | None:
    """The release as it is now, with everything its fields read (they are resolved on the event loop)."""
    release = ReleaseModel.objects.filter(pk=release_id).first()
    if release is not None:
        preload(Batch([release]))
    return release


async def _checked(check: Any, *args: Any) -> Any:
    """`check(*args)` off the event loop; a refusal raised as a GraphQL error with the REST envelope (the
    error message of the subscription carries `extensions` like any other answer)."""
    try:
        return await database_sync_to_async(check)(*args)
    except Exception as exc:
        extensions = error_extensions(exc)
        if extensions is None:
            raise
        raise GraphQLError(error_message(exc), extensions=extensions) from exc


EXPIRED_MESSAGE = "The credential of this subscription has expired: subscribe again with a fresh one (and `after`)."


def credential_expired(viewer: Any, now: datetime | None = None) -> bool:
    """Whether the JWT or API token the subscription was opened with has expired since: a subscription does
    not outlive its credential (it ends with `token_expired`; the client resumes with a fresh one)."""
    now = now or datetime.now(UTC)
    auth = viewer.auth
    expires = getattr(auth, "expires_at", None)  # an API token
    if expires is None and hasattr(auth, "payload"):  # a JWT
        exp = auth.payload.get("exp")
        expires = datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None
    return expires is not None and expires <= now


def _expired_error() -> GraphQLError:
    return GraphQLError(EXPIRED_MESSAGE, extensions={"code": "token_expired", "status": 401})


def _start(viewer: Any, after: int | None, filter: EventFilterInput | None = None) -> EventFilter:
    require_read(viewer)
    if after is not None and not 0 <= after <= MAX_SEQUENCE:
        raise ValidationFailed({"after": ["An event sequence (a whole number, 0 or more)."]})
    return event_filter(filter)


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Events as they commit (the SSE stream's source and filters).")
    async def events(
        self,
        info: Info,
        filter: EventFilterInput | None = None,
        after: int | None = None,
    ) -> AsyncGenerator[EventSequence, None]:
        viewer = info.context["viewer"]
        filters = await _checked(_start, viewer, after, filter)
        async for events in sequences(after=after, filters=filters):
            if credential_expired(viewer):
                raise _expired_error()
            yield EventSequence(seq=events[0].seq, events=[_event(e) for e in events])

    @strawberry.subscription(description="The changes of one release, each with the release as it is after.")
    async def release(
        self,
        info: Info,
        id: strawberry.ID,
        after: int | None = None,
    ) -> AsyncGenerator[ReleaseChange, None]:
        viewer = info.context["viewer"]
        await _checked(_start, viewer, after)
        async for events in sequences(after=after, filters=EventFilter()):
            mine = [event for event in events if about_release(event, id)]
            if mine and credential_expired(viewer):
                raise _expired_error()
            if mine:
                release = await database_sync_to_async(_read_release)(id)
                yield ReleaseChange(seq=mine[0].seq, events=[_event(e) for e in mine], release=release)
