"""MongoDB execute mode (DESIGN §3, issue #17): run the ORM on an in-process MongoDB emulator and
compare every read and write with SQLite.

`OPSPORTAL_MONGO_EXECUTE=1 pytest tests/mongo_execute` (`dev.py test`, step "pytest (MongoDB
execute mode)", when `MONGODB_URI` is not set).

**How the two databases are compared.** One Django process cannot hold both configurations: on
MongoDB the contrib apps use ObjectId-keyed app configs and other migrations, and the services
use the `default` alias. So the comparison runs the *same scenario code* in two processes:

1. The pytest session is the MongoDB side. `mongo_emulator.activate()` (called by `pytest_env`
   before Django is configured) points `MONGODB_URI` at `mongo_emulator.EMULATOR_URI` and installs the emulator, so
   settings, migrations, flush-between-tests and everything else is exactly the MongoDB
   configuration; only the server is `mongomock` (`opsportal/testing/mongo_emulator.py`).
2. The SQLite side is one child process (`python -m opsportal.testing.mongo_execute record …`),
   started once per session with `MONGODB_URI` unset and a fresh SQLite file: it migrates and runs
   every scenario, and writes the answers to a JSON file.
3. Each test runs one scenario on the emulator and compares its answer with SQLite's.

A scenario (`tests/mongo_execute/scenarios.py`) starts from the same state on both sides —
flushed database, `fixtures/sample_data.json`, the same users, the frozen clock
(`FROZEN_NOW`, moved only by the scenario) and deterministic ids (`opsportal.ids.new_id` counts
from zero) — calls selectors, services or API endpoints, and returns what they answered. Its
answer is the returned value plus, after writes, every document of our apps (`snapshot()`), all
normalised to JSON (`normalise`: datetimes, durations and decimals tagged so that the rules
below can see them).

**What counts as the same.** Exactly equal, or equal once the `KNOWN_DIVERGENCES` allowed for the
scenario are applied to both answers (each with its reason; a test names the ones it needed).
Anything else fails the test with a diff.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import decimal
import difflib
import importlib
import itertools
import json
import os
import random
import secrets
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ENV = "OPSPORTAL_MONGO_EXECUTE"
SCENARIOS_MODULE = "tests.mongo_execute.scenarios"
# The frozen clock: a day after the sample data's newest deployment (2026-11-26 08:51 UTC).
FROZEN_NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[2]


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def execute_mode() -> bool:
    """On with `OPSPORTAL_MONGO_EXECUTE=1`, once `pytest_env` pointed `MONGODB_URI` at the emulator
    (never against a real server: with `MONGODB_URI` set by the user, that leg is the arbiter)."""
    from opsportal.testing.mongo_emulator import EMULATOR_URI

    return _true(os.environ.get(ENV)) and os.environ.get("MONGODB_URI") == EMULATOR_URI


# --------------------------------------------------------------------------- known divergences


@dataclass(frozen=True)
class Divergence:
    """A difference between SQLite's and MongoDB's answer that is not a bug, and why."""

    name: str
    reason: str
    # Applies to every scenario (else only where a scenario lists it).
    general: bool = False


KNOWN_DIVERGENCES: dict[str, Divergence] = {
    d.name: d
    for d in (
        Divergence(
            "unordered",
            "Without an ORDER BY / $sort neither database promises an order (grouped counts, "
            "`values().annotate()`): such answers are compared as multisets.",
        ),
        Divergence(
            "sort_ties",
            "Rows whose sort keys are equal come back in any order (SQLite by rowid, MongoDB by "
            "index or natural order): within each run of equal keys the rows are compared as a multiset.",
        ),
        Divergence(
            "json_text_like",
            "A pattern lookup (`icontains`…) on a JSONField is a LIKE on the JSON text on SQLite but a "
            "$regex on a sub-document on MongoDB, which matches nothing. The application never does it "
            "(compile mode refuses it; search uses `Release.search_text`); the one scenario that shows "
            "it expects SQLite to match and MongoDB not to.",
        ),
        Divergence(
            "unicode_case_folding",
            "Case-insensitive matching (`icontains`, `?search=`) is a LIKE on SQLite, which folds the case of "
            "ASCII letters only, and a $regex with the `i` option on MongoDB, which folds every letter: "
            "MongoDB finds `Ärger` for `ärger`, SQLite does not. MongoDB, the production store, is right; "
            "compared as: MongoDB finds everything SQLite finds, and may find more.",
        ),
        Divergence(
            "duration_rounding",
            "Durations computed by the database (`F(a) - F(b)`, `Avg` of them) are microseconds on "
            "SQLite and milliseconds on MongoDB: compared to the millisecond.",
            general=True,
        ),
        Divergence(
            "naive_aware",
            "Truncated datetimes (`TruncDay`, `TruncWeek`) come back aware from SQLite and naive UTC "
            "from django-mongodb-backend: a naive value is read as UTC.",
            general=True,
        ),
        Divergence(
            "millisecond_datetimes",
            "MongoDB stores datetimes to the millisecond, SQLite to the microsecond; the application "
            "writes millisecond values (`opsportal.clock.now_ms`), so only values a test writes "
            "directly differ: compared to the millisecond.",
            general=True,
        ),
    )
}


# --------------------------------------------------------------------------- normal form


def normalise(value: Any) -> Any:
    """`value` as JSON: models as their stored fields, querysets as lists, datetimes/durations/decimals tagged."""
    from django.conf import settings
    from django.db import models
    from django.db.models.query import QuerySet

    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$duration_us": value // dt.timedelta(microseconds=1)}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, models.Model):
        if value._meta.label == settings.AUTH_USER_MODEL:
            return {"$user": value.get_username()}
        return {
            "$model": value._meta.label,
            **{f.attname: _field_value(value, f) for f in value._meta.concrete_fields},
        }
    if isinstance(value, QuerySet):
        return [normalise(item) for item in value]
    if isinstance(value, dict):
        return {str(key): normalise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(item) for item in value]
    if isinstance(value, set | frozenset):
        return {"$multiset": [normalise(item) for item in value]}
    if hasattr(value, "__dataclass_fields__"):
        return {
            "$dataclass": type(value).__name__,
            **{k: normalise(getattr(value, k)) for k in value.__dataclass_fields__},
        }
    return {"$repr": repr(value)}


def _field_value(obj: Any, field: Any) -> Any:
    """A stored field; a reference to a user by username (user ids are integers on SQLite, ObjectIds on MongoDB)."""
    from django.conf import settings

    value = getattr(obj, field.attname)
    if value is not None and field.is_relation and field.related_model._meta.label == settings.AUTH_USER_MODEL:
        return {"$user": getattr(obj, field.name).get_username()}
    return normalise(value)


def unordered(items: Any) -> dict[str, Any]:
    """Mark an answer whose order neither database defines (see `KNOWN_DIVERGENCES["unordered"]`)."""
    return {"$multiset": normalise(list(items))}


def ordered_with_ties(items: Any, key: Callable[[Any], Any]) -> dict[str, Any]:
    """Mark an answer sorted by `key` that is not total (see `KNOWN_DIVERGENCES["sort_ties"]`)."""
    return {"$ties": [[normalise(key(item)), normalise(item)] for item in items]}


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _parse_dt(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _apply(value: Any, rules: set[str], used: set[str]) -> Any:
    """`value` with the divergence `rules` applied; `used` collects those that changed something."""
    if isinstance(value, list):
        return [_apply(item, rules, used) for item in value]
    if not isinstance(value, dict):
        return value
    if "$datetime" in value and len(value) == 1:
        moment = _parse_dt(value["$datetime"])
        if "naive_aware" in rules and moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
            used.add("naive_aware")
        if "millisecond_datetimes" in rules and moment.microsecond % 1000:
            moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
            used.add("millisecond_datetimes")
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC)
        return {"$datetime": moment.isoformat()}
    if "$duration_us" in value and len(value) == 1:
        micros = value["$duration_us"]
        if "duration_rounding" in rules and micros % 1000:
            used.add("duration_rounding")
            micros = round(micros / 1000) * 1000
        return {"$duration_us": micros}
    if "$multiset" in value and len(value) == 1:
        items = [_apply(item, rules, used) for item in value["$multiset"]]
        if "unordered" in rules:
            ordered = sorted(items, key=_canon)
            if ordered != items:
                used.add("unordered")
            items = ordered
        return {"$multiset": items}
    if "$ties" in value and len(value) == 1:
        pairs = [[_apply(k, rules, used), _apply(item, rules, used)] for k, item in value["$ties"]]
        if "sort_ties" in rules:
            regrouped = []
            for _, group in itertools.groupby(pairs, key=lambda pair: _canon(pair[0])):
                regrouped += sorted(group, key=_canon)
            if regrouped != pairs:
                used.add("sort_ties")
            pairs = regrouped
        return {"$ties": pairs}
    return {key: _apply(item, rules, used) for key, item in value.items()}


@dataclass
class Comparison:
    equal: bool
    divergences: list[str] = field(default_factory=list)
    diff: str = ""


JSON_TEXT_LIKE = "$json_text_like"


def json_text_like(ids: Any) -> dict[str, Any]:
    """Mark the answer of a pattern lookup on JSON data (see `KNOWN_DIVERGENCES["json_text_like"]`)."""
    return {JSON_TEXT_LIKE: normalise(sorted(ids))}


UNICODE_CASE = "$unicode_case"


def unicode_case(ids: Any) -> dict[str, Any]:
    """Mark the answer of a case-insensitive match of non-ASCII text (`KNOWN_DIVERGENCES["unicode_case_folding"]`)."""
    return {UNICODE_CASE: normalise(sorted(ids))}


def _reconcile(sqlite: Any, mongodb: Any, rules: set[str], used: set[str]) -> tuple[Any, Any]:
    """The divergences that concern both answers at once (walking them side by side)."""
    if isinstance(sqlite, dict) and isinstance(mongodb, dict) and set(sqlite) == set(mongodb) == {UNICODE_CASE}:
        found_by_sqlite, found_by_mongodb = sqlite[UNICODE_CASE], mongodb[UNICODE_CASE]
        if "unicode_case_folding" in rules and found_by_sqlite != found_by_mongodb:
            if all(item in found_by_mongodb for item in found_by_sqlite):
                used.add("unicode_case_folding")
                return mongodb, mongodb
        return sqlite, mongodb
    if isinstance(sqlite, dict) and isinstance(mongodb, dict) and sqlite.keys() == mongodb.keys():
        if set(sqlite) == {JSON_TEXT_LIKE} and "json_text_like" in rules:
            # SQLite matched the JSON text, MongoDB's $regex on sub-documents matched nothing.
            if sqlite[JSON_TEXT_LIKE] and mongodb[JSON_TEXT_LIKE] == []:
                used.add("json_text_like")
                marker = {JSON_TEXT_LIKE: "sqlite matched the JSON text; mongodb matched nothing"}
                return marker, marker
            return sqlite, mongodb
        pairs = {key: _reconcile(sqlite[key], mongodb[key], rules, used) for key in sqlite}
        return {k: v[0] for k, v in pairs.items()}, {k: v[1] for k, v in pairs.items()}
    if isinstance(sqlite, list) and isinstance(mongodb, list) and len(sqlite) == len(mongodb):
        pairs = [_reconcile(a, b, rules, used) for a, b in zip(sqlite, mongodb, strict=True)]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    return sqlite, mongodb


def compare(sqlite: Any, mongodb: Any, *, allowed: tuple[str, ...] = ()) -> Comparison:
    """Whether the two answers are the same, exactly or modulo the known divergences allowed."""
    if _canon(sqlite) == _canon(mongodb):
        return Comparison(True)
    rules = {name for name, d in KNOWN_DIVERGENCES.items() if d.general} | set(allowed)
    used: set[str] = set()
    left, right = _reconcile(_apply(sqlite, rules, used), _apply(mongodb, rules, used), rules, used)
    if _canon(left) == _canon(right):
        return Comparison(True, sorted(used))
    a = json.dumps(left, sort_keys=True, indent=1, default=str).splitlines()
    b = json.dumps(right, sort_keys=True, indent=1, default=str).splitlines()
    diff = "\n".join(difflib.unified_diff(a, b, "sqlite", "mongodb (emulator)", lineterm="", n=4))
    return Comparison(False, sorted(used), diff)


# --------------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    """One differential case: `run(ctx)` returns what the code under test answered."""

    name: str
    run: Callable[[Context], Any]
    # Public selectors/services it exercises, as "module.function" (see the coverage test).
    covers: tuple[str, ...] = ()
    # KNOWN_DIVERGENCES names this scenario may show besides the general ones.
    divergences: tuple[str, ...] = ()
    # Compare every document of our apps afterwards (scenarios that write).
    writes: bool = False
    # What the scenario demonstrates, for the report.
    doc: str = ""


class Registry:
    def __init__(self) -> None:
        self.scenarios: dict[str, Scenario] = {}

    def scenario(
        self, *, covers: tuple[str, ...] | list[str] = (), divergences: tuple[str, ...] = (), writes: bool = False
    ) -> Callable[[Callable[[Context], Any]], Callable[[Context], Any]]:
        def register(func: Callable[[Context], Any]) -> Callable[[Context], Any]:
            name = func.__name__
            if name in self.scenarios:
                raise ValueError(f"scenario {name} registered twice")
            unknown = set(divergences) - set(KNOWN_DIVERGENCES)
            if unknown:
                raise ValueError(f"scenario {name}: unknown divergences {sorted(unknown)}")
            self.scenarios[name] = Scenario(
                name, func, tuple(covers), tuple(divergences), writes, (func.__doc__ or "").strip()
            )
            return func

        return register


class FrozenClock:
    """`django.utils.timezone.now` answers `FROZEN_NOW` plus whatever the scenario advanced."""

    def __init__(self) -> None:
        self.now = FROZEN_NOW

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now

    def set(self, moment: dt.datetime) -> None:
        self.now = moment


class _CountingIds:
    """Stands in for `bson.ObjectId` inside `opsportal.ids`: 24 hex digits counting from 1."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{next(self.counter):024x}"


@contextlib.contextmanager
def frozen(clock: FrozenClock) -> Iterator[None]:
    """The frozen clock, ids counting from 1 and predictable secrets, for one scenario."""
    from django.utils import timezone

    import opsportal.ids

    original = timezone.now, opsportal.ids.ObjectId, secrets.token_urlsafe, secrets.token_bytes, random.getstate()
    counter = itertools.count(1)
    timezone.now = clock
    opsportal.ids.ObjectId = _CountingIds()
    # API token and webhook secrets: the same on both sides, so their hashes, hints and signatures compare.
    secrets.token_urlsafe = lambda nbytes=None: f"differential-secret-{next(counter):04d}"
    secrets.token_bytes = lambda nbytes=32: f"{next(counter):04d}".encode().rjust(nbytes or 32, b"-")
    random.seed(17)  # the jitter of retries and webhook backoff
    try:
        yield
    finally:
        timezone.now, opsportal.ids.ObjectId, secrets.token_urlsafe, secrets.token_bytes, state = original
        random.setstate(state)


USERS = {
    # username: (roles, superuser)
    "root": ((), True),
    "bob": (("Release Managers",), False),  # created release-2; approves the others
    "erin": (("Release Managers",), False),
    "alice": (("Engineers",), False),  # member of platform-team, created release-1
    "erin-viewer": (("Viewers",), False),
}


class Context:
    """What a scenario works with: users, API clients, the clock, a snapshot of the database."""

    def __init__(self, clock: FrozenClock) -> None:
        from django.contrib.auth import get_user_model

        self.clock = clock
        users = {user.username: user for user in get_user_model().objects.filter(username__in=USERS)}
        self.users = users
        self._requests = itertools.count(1)

    def user(self, username: str) -> Any:
        return self.users[username]

    def api(self, method: str, path: str, *, user: str | None = "root", data: Any = None, **headers: str) -> Any:
        """One API request (JSON); the answer is status, JSON body and the headers that carry meaning."""
        from rest_framework.test import APIClient

        client = APIClient()
        if user:
            client.force_authenticate(self.users[user])
        extra = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in headers.items()}
        extra.setdefault("HTTP_X_REQUEST_ID", f"differential-{next(self._requests)}")
        response = getattr(client, method.lower())(path, data=data, format="json", **extra)
        body = (
            response.json()
            if response.content and response.get("Content-Type", "").startswith("application/json")
            else None
        )
        kept = {name: response[name] for name in ("ETag", "Location", "Retry-After") if response.has_header(name)}
        return {"status": response.status_code, "body": body, "headers": kept}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.api("GET", path, **kwargs)

    def attempt(self, func: Callable[[], Any]) -> Any:
        """Call `func`; an application error (a refusal: 409, 403, 400…) is the answer instead."""
        from opsportal.errors import ApplicationError

        try:
            return func()
        except ApplicationError as error:
            return {
                "$error": type(error).__name__,
                "status": getattr(error, "status_code", None),
                "code": getattr(error, "code", None),
                "message": error.message,
                "extra": normalise(error.extra),
            }


def snapshot() -> dict[str, Any]:
    """Every document of our apps, by model and primary key (sorted here, not by either database)."""
    from django.apps import apps
    from django.db import connection

    from opsportal.testing.mongo_compile import OUR_APPS

    existing = set(connection.introspection.table_names())
    state: dict[str, Any] = {}
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS or model._meta.proxy or model._meta.db_table not in existing:
            continue
        rows = [normalise(obj) for obj in model._default_manager.all()]
        state[model._meta.label] = sorted(rows, key=lambda row: str(row.get(model._meta.pk.attname)))
    return state


def reset_database() -> None:
    """A flushed database with the sample data, the scenario users and an empty cache."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.cache import caches
    from django.core.management import call_command

    from audit.models import AuditEvent

    call_command("flush", interactive=False, verbosity=0)
    for cache in caches.all():
        cache.clear()
    # And the per-process caches keyed by collection versions (issue #18): each backend reads its own data.
    from opsportal.api.authentication import CachedJWTAuthentication
    from opsportal.api.rows import forget_process_caches

    forget_process_caches()
    CachedJWTAuthentication.forget_all()
    call_command("loaddata", "sample_data", verbosity=0)
    # No passwords (hashing one costs more than a whole scenario): the API clients force authentication.
    for username, (roles, superuser) in USERS.items():
        user = get_user_model().objects.create_user(
            username, f"{username}@example.com", None, is_superuser=superuser, is_staff=superuser
        )
        if roles:
            user.groups.set(Group.objects.filter(name__in=roles))
    # The trail starts empty: creating the users was audited (`audit.auth_signals`) with their
    # ids, which differ by backend (integers, ObjectIds) and are not what the scenarios compare.
    AuditEvent.objects.all().delete()


def run_scenario(scenario: Scenario) -> dict[str, Any]:
    """Run one scenario from the common starting state; its answer (or how it crashed) as JSON.

    `meta.operations` counts the database operations the scenario ran (SQL statements on SQLite;
    aggregate/insert/update/delete calls on MongoDB): what the report calls queries compared.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clock = FrozenClock()
    with frozen(clock):
        reset_database()
        clock.set(FROZEN_NOW)
        try:
            ctx = Context(clock)
            with CaptureQueriesContext(connection) as operations:
                answer: dict[str, Any] = {"value": normalise(scenario.run(ctx))}
            answer["meta"] = {"operations": len(operations), "vendor": connection.vendor}
            if scenario.writes:
                answer["state"] = snapshot()
        except Exception as error:  # noqa: BLE001 - a crash is the answer, reported by the test
            return {"crash": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
    return answer


def load_registry(module: str = SCENARIOS_MODULE) -> Registry:
    return importlib.import_module(module).registry


# --------------------------------------------------------------------------- the SQLite side


def record(out: Path, module: str = SCENARIOS_MODULE) -> None:
    """In a process configured for SQLite: migrate a fresh database, run every scenario, write the answers."""
    import django
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    django.setup()
    setup_test_environment()
    call_command("migrate", interactive=False, verbosity=0)
    registry = load_registry(module)
    answers = {name: run_scenario(scenario) for name, scenario in registry.scenarios.items()}
    out.write_text(json.dumps(answers, sort_keys=True, default=str))


def record_sqlite_answers(workdir: Path, module: str = SCENARIOS_MODULE) -> dict[str, Any]:
    """Run `record` in a child process on a fresh SQLite file; its answers by scenario name."""
    out = workdir / "sqlite-answers.json"
    env = {key: value for key, value in os.environ.items() if key not in {"MONGODB_URI", ENV, "OPSPORTAL_CACHE_DIR"}}
    env.update(
        OPSPORTAL_SQLITE_PATH=str(workdir / "differential.sqlite3"),
        DJANGO_SETTINGS_MODULE="opsportal.settings",
        OPSPORTAL_MONGO_COMPILE="0",
        OPSPORTAL_TEST_FLUSH="0",
    )
    command = [sys.executable, "-m", "opsportal.testing.mongo_execute", "record", str(out), "--scenarios", module]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"the SQLite side of the differential suite failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(out.read_text())


# --------------------------------------------------------------------------- pytest plugin


@dataclass
class Report:
    """What the differential suite compared, for the end of the pytest run."""

    scenarios: int = 0
    mongodb_operations: int = 0
    sqlite_statements: int = 0
    absorbed: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, sqlite: dict[str, Any], mongodb: dict[str, Any]) -> None:
        self.scenarios += 1
        self.sqlite_statements += sqlite.get("operations", 0)
        self.mongodb_operations += mongodb.get("operations", 0)

    def divergences(self, name: str, used: list[str]) -> None:
        for divergence in used:
            self.absorbed.setdefault(divergence, []).append(name)

    def lines(self) -> list[str]:
        lines = [
            f"{self.scenarios} scenarios compared: {self.mongodb_operations} MongoDB operations on the emulator "
            f"against {self.sqlite_statements} SQL statements on SQLite"
        ]
        for name, scenarios in sorted(self.absorbed.items()):
            lines.append(f"  known divergence {name}: {len(scenarios)} scenario(s) ({', '.join(scenarios)})")
        return lines


_report = Report()


@pytest.fixture(scope="session")
def differential_report() -> Report:
    return _report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _report.scenarios:
        terminalreporter.section("MongoDB execute mode: differential suite")
        for line in _report.lines():
            terminalreporter.write_line(line)


def pytest_report_header(config: pytest.Config) -> str | None:
    if not execute_mode():
        return None
    from opsportal.testing.mongo_emulator import EMULATED_SERVER_VERSION, MONGOMOCK_VERSION

    version = ".".join(map(str, EMULATED_SERVER_VERSION))
    return (
        f"MongoDB execute mode: django-mongodb-backend over mongomock {MONGOMOCK_VERSION} (answering as MongoDB "
        f"{version}), compared with SQLite; no transactions (the MONGODB_URI leg proves those)"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m opsportal.testing.mongo_execute")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="run every scenario on SQLite and write the answers (JSON)")
    rec.add_argument("out", type=Path)
    rec.add_argument("--scenarios", default=SCENARIOS_MODULE)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
    record(args.out, args.scenarios)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
