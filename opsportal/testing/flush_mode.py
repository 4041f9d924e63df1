"""Flush between tests instead of rolling back (DESIGN §3), a pytest plugin (root conftest).

MongoDB cannot roll a test back, so on MongoDB every database test is a `TransactionTestCase`:
it commits for real and Django flushes every table/collection afterwards (and sends
`post_migrate`, which recreates the role groups). So that the SQLite leg proves the suite
does not depend on per-test rollback either, CI runs it a second time in this mode
(`python3 dev.py test`, step "pytest (flush between tests)").

On when `OPSPORTAL_TEST_FLUSH` is true, and always when `MONGODB_URI` is set. Then every test
that uses the database (a `django_db` mark, or the `db` fixture through some other fixture)
runs with `django_db(transaction=True)`, keeping the mark's other arguments; and every cache is
cleared after it (Redis or files on MongoDB; no flush reaches them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

ENV = "OPSPORTAL_TEST_FLUSH"
_DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}
_MARK_ARGS = ("transaction", "reset_sequences", "databases", "serialized_rollback", "available_apps")


def flush_mode() -> bool:
    if os.environ.get("MONGODB_URI"):
        return True
    return os.environ.get(ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _uses_db(item: pytest.Item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(
        _DB_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not flush_mode():
        return
    for item in items:
        if not _uses_db(item):
            continue
        marker = item.get_closest_marker("django_db")
        arguments = dict(zip(_MARK_ARGS, marker.args, strict=False)) | marker.kwargs if marker else {}
        # pytest-django reads the closest django_db mark: this one, in front of the test's own.
        item.add_marker(pytest.mark.django_db(**{**arguments, "transaction": True}), append=False)


@pytest.fixture(autouse=True)
def _clear_caches_after_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    if not (flush_mode() and _uses_db(request.node)):
        yield
        return
    blocker = request.getfixturevalue("django_db_blocker")
    yield
    from django.core.cache import caches

    with blocker.unblock():  # the test's database fixture may already be torn down
        for cache in caches.all():
            cache.clear()


def pytest_report_header(config: pytest.Config) -> str:
    how = "flush between tests" if flush_mode() else "roll back each test"
    why = " (MONGODB_URI is set)" if os.environ.get("MONGODB_URI") else f" ({ENV}=1)" if flush_mode() else ""
    return f"database isolation: {how}{why}"
