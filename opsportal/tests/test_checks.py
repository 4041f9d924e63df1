"""MongoDB must run transactions (issue 9, DESIGN §3): a standalone server is refused by the system
checks and at server start-up. No MongoDB server here: the connection's vendor and its
`features._supports_transactions` (django-mongodb-backend's `hello` probe) are faked."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest
import yaml
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connections

from opsportal.checks import (
    STANDALONE,
    UNREACHABLE,
    mongodb_transaction_errors,
    refuse_unsupported_database,
    standalone_message,
)
from opsportal.testing.commands import run_python

ROOT = Path(__file__).resolve().parents[2]
URI = "mongodb://portal:s3cret@db1.example:27017,db2.example:27017/opsportal?directConnection=true"
MESSAGE = (
    "MongoDB at db1.example:27017,db2.example:27017 is a standalone server; transactions need a replica set: "
    "start mongod with --replSet rs0 and run rs.initiate() (docker-compose.yml does this)"
)


@pytest.fixture
def fake_mongodb(monkeypatch):
    """The default connection, posing as a MongoDB at URI whose `hello` says `supports` (or raises)."""
    connection = connections["default"]
    monkeypatch.setattr(connection, "vendor", "mongodb")
    monkeypatch.setitem(connection.settings_dict, "HOST", URI)

    def answer(supports: bool | Exception) -> None:
        if isinstance(supports, Exception):

            def hello(features):
                raise supports

            monkeypatch.setattr(type(connection.features), "_supports_transactions", property(hello), raising=False)
        else:
            monkeypatch.setattr(connection.features, "_supports_transactions", supports, raising=False)

    return answer


def ids(messages) -> list[str]:
    return [message.id for message in messages if message.id.startswith("opsportal.")]


def test_a_standalone_server_is_refused_with_how_to_fix_it(fake_mongodb):
    fake_mongodb(False)
    [error] = mongodb_transaction_errors()
    assert (error.id, error.level, error.msg) == (STANDALONE, checks.ERROR, MESSAGE)
    assert "s3cret" not in error.msg and "\n" not in error.msg


def test_a_replica_set_or_sharded_cluster_passes(fake_mongodb):
    fake_mongodb(True)
    assert mongodb_transaction_errors() == []


def test_sqlite_is_not_asked(monkeypatch):
    def hello(features):
        raise AssertionError("SQLite has no `hello`")

    monkeypatch.setattr(type(connections["default"].features), "_supports_transactions", property(hello), raising=False)
    assert connections["default"].vendor == "sqlite"
    assert mongodb_transaction_errors() == []


def test_a_server_that_cannot_be_asked_is_an_error_too(fake_mongodb):
    from pymongo.errors import ServerSelectionTimeoutError

    fake_mongodb(
        ServerSelectionTimeoutError(
            "db1.example:27017: timed out (configured timeouts: socketTimeoutMS: 20000.0ms), Timeout: 30s, "
            "Topology Description: <TopologyDescription …>"
        )
    )
    [error] = mongodb_transaction_errors()
    assert error.id == UNREACHABLE
    assert error.msg == (
        "Cannot ask MongoDB at db1.example:27017,db2.example:27017 whether it runs transactions: "
        "db1.example:27017: timed out"
    )


def test_the_database_check_runs_for_migrate_and_check_database_only(fake_mongodb):
    """Django runs database checks only for the databases it is asked about (`migrate` asks for its own)."""
    fake_mongodb(False)
    assert ids(checks.run_checks(tags=[checks.Tags.database])) == []
    assert ids(checks.run_checks(tags=[checks.Tags.database], databases=["default"])) == [STANDALONE]
    with pytest.raises(SystemCheckError, match=r"\(opsportal\.E001\) MongoDB at db1\.example:27017,"):
        call_command("check", "--database", "default", "--tag", "database")


def test_check_deploy_refuses_a_standalone_server(fake_mongodb):
    fake_mongodb(False)
    found = checks.run_checks(tags=[checks.Tags.database], include_deployment_checks=True)
    assert ids(found) == [STANDALONE]
    # with --database as well, the error is reported once
    found = checks.run_checks(tags=[checks.Tags.database], include_deployment_checks=True, databases=["default"])
    assert ids(found) == [STANDALONE]
    with pytest.raises(SystemCheckError) as refused:
        call_command("check", "--deploy", "--tag", "database")
    assert f"?: ({STANDALONE}) {MESSAGE}" in str(refused.value)


def test_start_up_exits_with_the_one_line(fake_mongodb):
    fake_mongodb(False)
    with pytest.raises(SystemExit) as exited:
        refuse_unsupported_database()
    assert exited.value.code == MESSAGE  # printed alone on stderr, exit status 1
    fake_mongodb(True)
    refuse_unsupported_database()


def load_gunicorn_config(monkeypatch) -> dict:
    monkeypatch.setattr("dotenv.load_dotenv", lambda *args, **kwargs: False)  # ignore a developer's .env
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_checks_mongodb_in_a_child_before_any_worker_starts(monkeypatch):
    import subprocess

    calls = []
    monkeypatch.setattr(subprocess, "call", lambda command, **kwargs: calls.append((command, kwargs)) or 1)
    monkeypatch.setenv("MONGODB_URI", URI)
    on_starting = load_gunicorn_config(monkeypatch)["on_starting"]
    with pytest.raises(SystemExit) as exited:
        on_starting(None)
    assert exited.value.code == 1
    [(command, kwargs)] = calls
    assert command[1:] == ["-c", "from opsportal.checks import main; main()"]
    assert kwargs["cwd"] == ROOT

    calls.clear()
    monkeypatch.delenv("MONGODB_URI")
    load_gunicorn_config(monkeypatch)["on_starting"](None)  # SQLite: nothing to ask
    assert calls == []


def test_gunicorn_refuses_to_start_with_one_line_when_mongodb_cannot_be_asked(tmp_path):
    """End to end, without a server: nothing listens on port 1, so the start-up check fails (E002)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        SECRET_KEY="startup-check-secret-key",
        DEBUG="false",
        MONGODB_URI="mongodb://127.0.0.1:1/opsportal?directConnection=true&serverSelectionTimeoutMS=300",
        OPSPORTAL_CACHE_DIR=str(tmp_path / "cache"),
        HOST="127.0.0.1",
        PORT="0",
        WEB_CONCURRENCY="1",
    )
    result = run_python("-m", "gunicorn", "-c", "gunicorn.conf.py", "opsportal.wsgi", env=env, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Cannot ask MongoDB at 127.0.0.1:1 whether it runs transactions: 127.0.0.1:1: ")
    assert "Topology" not in lines[-1]
    assert "Traceback" not in result.stderr
    assert "Booting worker" not in result.stderr


def test_docker_compose_runs_the_replica_set_the_message_asks_for():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mongo = compose["services"]["mongo"]
    assert mongo["command"][:3] == ["mongod", "--replSet", "rs0"]
    assert 'rs.initiate({_id: "rs0"' in " ".join(mongo["healthcheck"]["test"])
    assert "--replSet rs0 and run rs.initiate()" in MESSAGE


def test_the_readme_shows_the_message_as_it_is():
    assert standalone_message("localhost:27017") in (ROOT / "README.md").read_text()
