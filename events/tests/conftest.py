"""Fixtures of the events tests: users per role, environments, a team, loopback receivers, a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from events import services
from events.models import WebhookSubscription
from events.tests.receivers import Answer, Receiver
from events.worker import Worker
from opsportal.roles import ENGINEERS, RELEASE_MANAGERS, VIEWERS
from opsportal.testing.factories import make_release, make_standard_environments, make_team
from opsportal.testing.fixtures import user_fixture

alice = user_fixture("alice", RELEASE_MANAGERS, doc="A Release Manager (authors releases).")
carol = user_fixture("carol", RELEASE_MANAGERS, doc="Another Release Manager (approves).")
erin = user_fixture("erin", ENGINEERS, doc="An Engineer of the platform team.")
frank = user_fixture("frank", ENGINEERS, doc="An Engineer of no team.")
victor = user_fixture("victor", VIEWERS, doc="A Viewer.")


@pytest.fixture(autouse=True)
def loopback_targets(settings):
    """The receivers of these tests listen on loopback (production refuses that: see test_ssrf)."""
    settings.OPSPORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.OPSPORTAL_WEBHOOK_TIMEOUT_SECONDS = 2


@pytest.fixture
def envs(db):
    return make_standard_environments()


@pytest.fixture
def team(db, erin):
    return make_team(
        id="platform-team",
        name="Platform Team",
        members=[{"name": "Erin", "email": "erin@example.com", "role": "Engineer", "username": "erin"}],
    )


@pytest.fixture
def release(envs, team, alice):
    return make_release(team=team, created_by="alice")


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """`receiver(*answers, secrets=[...])`: a started loopback receiver, stopped after the test."""
    started: list[Receiver] = []

    def make(*answers: Answer, secrets: list[str] | None = None) -> Receiver:
        server = Receiver(list(answers) or None, secrets=secrets).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def subscribe(alice) -> Callable[..., WebhookSubscription]:
    """`subscribe(receiver, **fields)`: a subscription (by a Release Manager unless `actor=`) whose secret the
    receiver verifies with."""

    def make(target: Receiver, **fields) -> WebhookSubscription:
        subscription = services.webhook_create(actor=fields.pop("actor", alice), data={"url": target.url, **fields})
        target.secrets.append(subscription.secret)
        return subscription

    return make


@pytest.fixture
def worker() -> Worker:
    """A worker that sends on the test's thread (inside the test's transaction), no periodic jobs."""
    return Worker(inline=True, jobs=False, name="test-worker")
