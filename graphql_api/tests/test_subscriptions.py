"""Subscriptions over WebSocket (`graphql-transport-ws`), driven by `gql` (a client nobody here wrote) against
the real ASGI server, with the changes made through REST on the real WSGI server: in order, nothing missed,
nothing twice, also across a reconnect."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError

EVENTS = gql(
    """subscription($after: Int, $filter: EventFilterInput) {
      events(after: $after, filter: $filter) { seq events { id seq name team environment payload } } }"""
)
RELEASE = gql(
    """subscription($id: ID!, $after: Int) {
      release(id: $id, after: $after) { seq events { name } release { id status revision deployed_to
        environments { environment is_current } } } }"""
)


def _head(live_asgi) -> int:
    status, body, _ = live_asgi.rest.request(
        "POST", "/graphql", {"query": "{ event_sequence }"}, user="rm1", headers={}
    )
    assert status == 200, body
    return body["data"]["event_sequence"]


def _rest_events_after(live_asgi, after: int) -> list[dict[str, Any]]:
    """Every event after `after`, as the REST event list has them (the outbox, in order)."""
    events, page = [], 1
    while True:
        status, body, _ = live_asgi.rest.request(
            "GET", f"/api/v1/events?after={after}&page={page}&page_size=100", user="rm1"
        )
        assert status == 200, body
        events += body["results"]
        if not body["next"]:
            return events
        page += 1


def _lifecycle(live_asgi, version: str, done: threading.Event | None = None) -> str:
    """Create, submit, approve and deploy a release through REST (each a change with its events)."""
    rest = live_asgi.rest
    status, release, _ = rest.request("POST", "/api/v1/releases", {"name": "Live", "version": version}, user="rm1")
    assert status == 201, release
    for path, body, user in (
        ("submit", None, "rm1"),
        ("approve", {"comment": "ok"}, "rm2"),
        ("deploy", {"environment": "development"}, "rm1"),
    ):
        status, answer, _ = rest.request("POST", f"/api/v1/releases/{release['id']}/{path}", body, user=user)
        assert status in (200, 201), answer
    if done is not None:
        done.set()
    return release["id"]


async def _collect(transport: Any, document: Any, variables: dict, until: Any, timeout: float = 30) -> list[dict]:
    """Messages of one subscription until `until(messages)` holds (then the client disconnects)."""
    messages: list[dict] = []

    async def run() -> None:
        async with Client(transport=transport) as session:
            async for message in session.subscribe(GraphQLRequest(document, variable_values=variables)):
                messages.append(message)
                if until(messages):
                    return

    await asyncio.wait_for(run(), timeout)
    return messages


def _sequences(messages: list[dict], key: str = "events") -> list[int]:
    return [m[key]["seq"] for m in messages]


def test_events_caused_by_rest_calls_arrive_in_order_and_resume_after_a_disconnect(live_asgi):
    head = _head(live_asgi)
    first_release_done = threading.Event()

    def first_part() -> None:
        _lifecycle(live_asgi, "77.0.0", first_release_done)

    async def scenario() -> tuple[list[dict], list[dict]]:
        writer = threading.Thread(target=first_part)
        writer.start()
        # Disconnect after three changes, while the writer is still changing things.
        before = await _collect(live_asgi.transport("rm1"), EVENTS, {"after": head}, lambda got: len(got) == 3)
        await asyncio.to_thread(writer.join)
        # More changes while nobody listens.
        await asyncio.to_thread(_lifecycle, live_asgi, "77.1.0")
        total = len({e["seq"] for e in _rest_events_after(live_asgi, head)})
        resumed = await _collect(
            live_asgi.transport("rm1"),
            EVENTS,
            {"after": before[-1]["events"]["seq"]},
            lambda got: len(before) + len(got) >= total,
        )
        return before, resumed

    before, resumed = asyncio.run(scenario())
    received = [event for message in before + resumed for event in message["events"]["events"]]
    expected = _rest_events_after(live_asgi, head)
    assert [e["id"] for e in received] == [e["id"] for e in expected], "a gap, a duplicate or another order"
    seqs = _sequences(before + resumed)
    assert seqs == sorted(set(seqs))
    names = [e["name"] for e in received]
    assert names.index("release.created") < names.index("release.submitted") < names.index("release.approved")
    assert received[0]["payload"]["context"]["id"] == received[0]["id"]


def test_a_filter_lets_through_only_matching_events(live_asgi):
    head = _head(live_asgi)

    async def scenario() -> list[dict]:
        task = asyncio.create_task(
            _collect(
                live_asgi.transport("viewer"),
                EVENTS,
                {"after": head, "filter": {"types": ["deployment.*"], "environments": ["development"]}},
                lambda got: len(got) >= 1,
            )
        )
        await asyncio.to_thread(_lifecycle, live_asgi, "78.0.0")
        return await task

    messages = asyncio.run(scenario())
    events = [e for m in messages for e in m["events"]["events"]]
    assert events and {e["name"] for e in events} <= {"deployment.started", "deployment.succeeded", "deployment.failed"}
    assert {e["environment"] for e in events} == {"development"}


def test_a_release_subscription_sends_its_changes_with_the_release_after_each(live_asgi):
    head = _head(live_asgi)
    rest = live_asgi.rest
    status, release, _ = rest.request("POST", "/api/v1/releases", {"name": "Watched", "version": "79.0.0"}, user="rm1")
    assert status == 201

    async def scenario() -> list[dict]:
        task = asyncio.create_task(
            _collect(
                live_asgi.transport("rm1"), RELEASE, {"id": release["id"], "after": head}, lambda got: len(got) >= 3
            )
        )
        for path, body, user in (("submit", None, "rm1"), ("deploy", {"environment": "development"}, "rm1")):
            await asyncio.to_thread(rest.request, "POST", f"/api/v1/releases/{release['id']}/{path}", body, user)
        return await task

    changes = [m["release"] for m in asyncio.run(scenario())]
    assert [c["events"][0]["name"] for c in changes[:2]] == ["release.created", "release.submitted"]
    assert changes[1]["release"]["status"] == "pending_approval"
    deployed = changes[2]
    assert any(e["name"] == "deployment.succeeded" for e in deployed["events"])
    assert deployed["release"]["deployed_to"] == ["development"]
    assert [c["release"]["revision"] for c in changes] == sorted(c["release"]["revision"] for c in changes)


def test_a_subscription_needs_a_user_and_a_valid_token(live_asgi):
    async def attempt(transport: Any) -> TransportQueryError:
        with pytest.raises(TransportQueryError) as refused:
            await _collect(transport, EVENTS, {}, lambda got: True, timeout=15)
        return refused.value

    anonymous = asyncio.run(attempt(live_asgi.transport()))
    assert anonymous.errors[0]["extensions"] == {"code": "not_authenticated", "status": 401}
    from gql.transport.websockets import WebsocketsTransport

    forged = WebsocketsTransport(
        url=live_asgi.ws_url,
        init_payload={"Authorization": "Bearer forged"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    assert asyncio.run(attempt(forged)).errors[0]["extensions"]["status"] == 401
    bad_filter = live_asgi.transport("rm1")

    async def refused_filter() -> TransportQueryError:
        with pytest.raises(TransportQueryError) as refused:
            await _collect(bad_filter, EVENTS, {"filter": {"types": ["nothing.*"]}}, lambda got: True, timeout=15)
        return refused.value

    assert asyncio.run(refused_filter()).errors[0]["extensions"]["code"] == "invalid"


def test_queries_go_over_http_not_the_websocket(live_asgi):
    async def attempt() -> TransportQueryError:
        with pytest.raises(TransportQueryError) as refused:
            async with Client(transport=live_asgi.transport("rm1")) as session:
                await session.execute(gql("{ releases { count } }"))
        return refused.value

    assert asyncio.run(attempt()).errors[0]["extensions"]["code"] == "subscriptions_only"


@pytest.mark.django_db
def test_a_subscription_does_not_outlive_its_credential(manager):
    from datetime import UTC, datetime, timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    from graphql_api.auth import Viewer
    from graphql_api.subscriptions import credential_expired
    from tokens.services import api_token_create

    token = AccessToken.for_user(manager)
    now = datetime.now(UTC)
    assert not credential_expired(Viewer(user=manager, auth=token), now)
    assert credential_expired(Viewer(user=manager, auth=token), now + timedelta(days=1))
    api_token, _ = api_token_create(actor=manager, name="ci", scopes=["read"], expires_at=now + timedelta(hours=1))
    assert not credential_expired(Viewer(user=manager, auth=api_token), now)
    assert credential_expired(Viewer(user=manager, auth=api_token), now + timedelta(hours=2))
    assert not credential_expired(Viewer(), now)  # anonymous (with anonymous reads on): nothing expires
