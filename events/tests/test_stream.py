"""The event stream in process (issue #11): the text it writes, `id` after the last event of a sequence,
resuming, filters, the slot limit (503 + Retry-After), the list of events. Against a real gunicorn and
real clients: test_live.py."""

from __future__ import annotations

import pytest

from events.models import Event
from events.stream import RECENT, SLOTS, RecentEvents, events_after, format_events
from opsportal.testing.factories import client_for
from releases.services import release_submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_buffer():
    RECENT.reset()  # the buffer of this process outlives each test's database
    yield
    RECENT.reset()


def read_stream(user, settings, **query) -> tuple[object, str]:
    settings.OPSPORTAL_SSE_MAX_SECONDS = 0.6
    settings.OPSPORTAL_SSE_HEARTBEAT_SECONDS = 0.2
    response = client_for(user).get("/api/v1/events/stream", query, HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    response.close()
    return response, text


def test_resuming_from_a_sequence_sends_every_later_event(release, alice, victor, settings):
    release_submit(release=release, actor=alice)  # two events of one sequence
    (seq,) = set(Event.objects.values_list("seq", flat=True))
    response, text = read_stream(victor, settings, last_event_id=0)
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    lines = text.splitlines()
    assert lines[0] == ": connected at 0"
    assert lines[1] == "retry: 3000"
    data = [line for line in lines if line.startswith("data: ")]
    assert len(data) == 2
    assert [line for line in lines if line.startswith("id: ")] == [f"id: {seq}"], "after the sequence's last event"
    assert lines.index(f"id: {seq}") > lines.index(data[1])
    assert ": heartbeat" in lines
    assert SLOTS.open == 0, "the slot is given back when the stream ends"

    _, later = read_stream(victor, settings, last_event_id=seq)
    assert "data: " not in later


def test_a_stream_without_last_event_id_starts_now(release, alice, victor, settings):
    release_submit(release=release, actor=alice)
    _, text = read_stream(victor, settings)
    assert "data: " not in text


def test_filters(release, alice, victor, settings):
    release_submit(release=release, actor=alice)
    _, text = read_stream(victor, settings, last_event_id=0, types="approval.*")
    assert text.count("data: ") == 1 and "approval.requested" in text
    _, none = read_stream(victor, settings, last_event_id=0, environment="production")
    assert "data: " not in none
    _, team = read_stream(victor, settings, last_event_id=0, team="platform-team")
    assert team.count("data: ") == 2


def test_refusals(victor, api_client, settings):
    api = client_for(victor)
    bad = api.get("/api/v1/events/stream", {"types": "nope"})
    assert bad.status_code == 400 and "types" in bad.json()["errors"]
    assert api.get("/api/v1/events/stream", HTTP_LAST_EVENT_ID="x").status_code == 400
    assert api_client.get("/api/v1/events/stream").status_code == 401
    settings.OPSPORTAL_SSE_MAX_STREAMS = 0
    full = api.get("/api/v1/events/stream")
    assert full.status_code == 503
    assert full["Retry-After"] == "5"
    assert full.json()["code"] == "streams_full"


def test_the_event_list(release, alice, victor):
    release_submit(release=release, actor=alice)
    api = client_for(victor)
    body = api.get("/api/v1/events").json()
    assert [e["name"] for e in body["results"]] == ["release.submitted", "approval.requested"]
    first = body["results"][0]
    assert api.get(f"/api/v1/events/{first['id']}").json()["payload"]["context"]["id"] == first["id"]
    assert api.get("/api/v1/events", {"after": first["seq"]}).json()["count"] == 0
    assert api.get("/api/v1/events", {"types": "approval.*"}).json()["count"] == 1
    assert api.get("/api/v1/events", {"after": -1}).status_code == 400


def test_the_shared_buffer_reads_each_new_event_once_and_forgets_the_oldest(release, alice, monkeypatch):
    import events.stream as stream

    monkeypatch.setattr(stream, "POLL_SECONDS", 0)
    buffer = RecentEvents(size=1)
    assert buffer.refresh() == 0
    release_submit(release=release, actor=alice)
    head = buffer.refresh()
    assert head > 0
    assert buffer.after(0) is None, "the older of the two events left the buffer: read the database"
    assert len(events_after(0)) == 2
    assert buffer.after(head) == []


def test_format_events_puts_id_after_each_sequence():
    from events.stream import StreamedEvent

    events = [
        StreamedEvent("a", 1, "x", "", "", "{}"),
        StreamedEvent("b", 2, "x", "", "", "{}"),
        StreamedEvent("c", 2, "x", "", "", "{}"),
    ]
    assert format_events(events) == "data: {}\nid: 1\n\ndata: {}\n\ndata: {}\nid: 2\n\n"
