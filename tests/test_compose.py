"""Deployment files (DESIGN §8): docker-compose.yml, Dockerfile, gunicorn.conf.py, CI workflow, .ci/run.

No Docker engine on the build machines: these files are parsed and everything they run or
copy is checked to exist in the project.
"""

import importlib
import importlib.util
import os
import re
import runpy
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import gunicorn.config
import pytest
import yaml
from django.core.management import get_commands

from opsportal.testing.commands import run_python

ROOT = Path(__file__).resolve().parent.parent


def load_yaml(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_yaml("docker-compose.yml")


def published_ports(service: dict) -> set[int]:
    """Host ports of `ports:` entries ("8080:8080", "127.0.0.1:8081:8081")."""
    return {int(str(entry).split(":")[-2]) for entry in service.get("ports", [])}


def shell_commands(command: str | list[str]) -> list[list[str]]:
    """`sh -c "a && b && exec c"` (or a plain string) → [[a...], [b...], [c...]]."""
    if isinstance(command, list):
        assert command[:2] == ["sh", "-c"], command
        command = command[2]
    steps = []
    for part in command.split("&&"):
        words = shlex.split(part)
        if words and words[0] == "exec":
            words = words[1:]
        steps.append(words)
    return steps


def assert_runnable(steps: list[list[str]]) -> None:
    """Every `python manage.py X` is a real command, and gunicorn gets our config and WSGI module."""
    known = get_commands()
    programs = [words[0] for words in steps]
    assert programs[-1] == "gunicorn", "the server runs last, in the foreground"
    for words in steps:
        if words[0] == "python":
            assert words[1] == "manage.py"
            assert (ROOT / "manage.py").is_file()
            assert words[2] in known, f"unknown management command {words[2]}"
        elif words[0] == "gunicorn":
            config = words[words.index("-c") + 1]
            assert (ROOT / config).is_file()
            module = words[-1].split(":")[0]
            assert importlib.util.find_spec(module) is not None, module
            assert hasattr(importlib.import_module(module), "application")
        else:
            pytest.fail(f"unexpected program {words[0]}")
    manage = [words[2] for words in steps if words[0] == "python"]
    assert manage.index("migrate") == 0, "migrations run before anything else"


# --- docker-compose.yml ----------------------------------------------------------------


def test_compose_has_mongo_mongo_express_portal_and_worker(compose):
    assert set(compose["services"]) == {"mongo", "mongo-express", "portal", "portal-ws", "worker"}


def test_the_graphql_subscriptions_server_runs_beside_the_portal_on_8082(compose, monkeypatch):
    """Issue #15: the ASGI server (uvicorn workers) with the portal's image and settings."""
    ws, portal = compose["services"]["portal-ws"], compose["services"]["portal"]
    assert ws["command"] == ["gunicorn", "-c", "gunicorn.asgi.conf.py"]
    assert (ws["image"], ws["environment"]) == (portal["image"], portal["environment"])
    assert published_ports(ws) == {8082}
    assert ws["depends_on"]["portal"]["condition"] == "service_healthy"
    monkeypatch.delenv("GRAPHQL_WS_PORT", raising=False)
    load_gunicorn_config(monkeypatch)  # a clean environment, without a developer's .env
    config = runpy.run_path(str(ROOT / "gunicorn.asgi.conf.py"))
    assert config["worker_class"] == "uvicorn_worker.UvicornWorker"
    assert config["wsgi_app"] == "opsportal.asgi:application"
    assert config["bind"] == ["0.0.0.0:8082"]


def test_worker_runs_run_worker_with_the_portals_settings(compose):
    """issue #11: one background process beside the portal, same image and environment, stopped gently."""
    worker, portal = compose["services"]["worker"], compose["services"]["portal"]
    assert worker["command"][:3] == ["python", "manage.py", "run_worker"]
    assert "run_worker" in get_commands()
    assert worker["image"] == portal["image"]
    assert worker["environment"] == portal["environment"]
    assert worker["depends_on"]["portal"]["condition"] == "service_healthy"
    assert int(str(worker["stop_grace_period"]).rstrip("s")) >= 15, "time to finish a delivery (10 s timeout)"


def test_compose_demo_mode_loads_sample_data_and_a_first_admin(compose):
    """`docker compose up` is a usable portal when OPSPORTAL_DEMO is on (the default there)."""
    portal = compose["services"]["portal"]
    assert portal["environment"]["OPSPORTAL_DEMO"] == "${OPSPORTAL_DEMO:-true}"
    steps = shell_commands(portal["command"])
    assert ["python", "manage.py", "demo_setup"] in steps
    assert steps.index(["python", "manage.py", "demo_setup"]) > 0, "after migrate"


def test_mongo_is_a_single_node_replica_set_that_initiates_itself(compose):
    mongo = compose["services"]["mongo"]
    assert mongo["image"] == "mongo:7"
    command = " ".join(mongo["command"]) if isinstance(mongo["command"], list) else mongo["command"]
    assert "--replSet rs0" in command
    check = " ".join(mongo["healthcheck"]["test"])
    assert "mongosh" in check
    assert "rs.initiate" in check
    assert '_id: "rs0"' in check
    assert "quit(" in check, "the healthcheck must fail until the node is primary"
    assert "mongo-data:/data/db" in mongo["volumes"]
    assert "mongo-data" in compose["volumes"]


def test_mongo_express_on_8081_wired_to_mongo(compose):
    express = compose["services"]["mongo-express"]
    assert published_ports(express) == {8081}
    assert urlsplit(express["environment"]["ME_CONFIG_MONGODB_URL"]).hostname == "mongo"
    assert express["depends_on"]["mongo"]["condition"] == "service_healthy"


def test_portal_built_here_on_8080_after_mongo_is_healthy(compose):
    portal = compose["services"]["portal"]
    assert portal["build"] in (".", {"context": "."})
    assert (ROOT / "Dockerfile").is_file()
    assert published_ports(portal) == {8080}
    assert portal["depends_on"]["mongo"]["condition"] == "service_healthy"


def test_portal_connects_to_the_mongo_service(compose):
    uri = urlsplit(compose["services"]["portal"]["environment"]["MONGODB_URI"])
    assert uri.scheme == "mongodb"
    assert uri.hostname == "mongo"
    assert uri.port == 27017
    assert uri.path == "/opsportal"
    query = parse_qs(uri.query)
    assert query.get("directConnection") == ["true"] or query.get("replicaSet") == ["rs0"]


def test_portal_requires_a_secret_key_and_runs_without_debug(compose):
    env = compose["services"]["portal"]["environment"]
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), "no built-in secret key in production"
    assert env["DEBUG"] in ("false", "${DEBUG:-false}")


def test_portal_command_migrates_then_serves(compose):
    assert_runnable(shell_commands(compose["services"]["portal"]["command"]))


# --- Dockerfile --------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_base_and_non_root_user():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users, "the server must not run as root"
    assert users[-1] not in {"root", "0"}
    assert ("EXPOSE", "8080") in instructions


def test_dockerfile_copy_sources_exist():
    copies = [rest.split() for keyword, rest in dockerfile_instructions() if keyword in {"COPY", "ADD"}]
    assert copies
    for words in copies:
        sources = [w for w in words if not w.startswith("--")][:-1]
        assert sources
        for source in sources:
            assert (ROOT / source).exists(), source


def test_dockerfile_installs_requirements_and_collects_static_at_build():
    runs = " ".join(rest for keyword, rest in dockerfile_instructions() if keyword == "RUN")
    assert "pip install -r requirements.txt" in runs
    assert "manage.py collectstatic --noinput" in runs


def test_dockerfile_data_directory_is_writable_and_used():
    """The non-root server writes SQLite and the file cache under /app/data, nowhere else."""
    instructions = dockerfile_instructions()
    env = " ".join(rest for keyword, rest in instructions if keyword == "ENV")
    assert "OPSPORTAL_SQLITE_PATH=/app/data/" in env
    assert "OPSPORTAL_CACHE_DIR=/app/data/" in env
    assert re.search(r"chown -R \S+ /app/data", " ".join(rest for k, rest in instructions if k == "RUN"))


def test_dockerfile_cmd_migrates_then_serves():
    cmd = next(rest for keyword, rest in reversed(dockerfile_instructions()) if keyword == "CMD")
    assert_runnable(shell_commands(yaml.safe_load(cmd)))


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".env", ".git", "db.sqlite3*", "staticfiles"} <= ignored


# --- gunicorn.conf.py ---------------------------------------------------------------------


def load_gunicorn_config(monkeypatch, **env: str) -> dict:
    for name in ("HOST", "PORT", "WEB_CONCURRENCY", "RELOAD", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("dotenv.load_dotenv", lambda *args, **kwargs: False)  # ignore a developer's .env
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_config_defaults(monkeypatch):
    config = load_gunicorn_config(monkeypatch)
    assert config["bind"] == ["0.0.0.0:8080"]
    assert config["workers"] == 2
    assert config["reload"] is False
    assert config["accesslog"] == "-"
    assert config["loglevel"] == "info"
    assert 30 <= config["timeout"] <= 120
    assert config["wsgi_app"] == "opsportal.wsgi:application"


def test_gunicorn_workers_freeze_what_they_loaded_out_of_the_collectors_sight(monkeypatch):
    import gc

    config = load_gunicorn_config(monkeypatch)
    assert gc.get_freeze_count() == 0
    try:
        config["post_worker_init"](worker=None)
        # The app's modules (views included) are loaded and frozen: full collections no longer scan them.
        assert "releases.api.views" in sys.modules
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_gunicorn_config_from_environment(monkeypatch):
    config = load_gunicorn_config(
        monkeypatch, HOST="127.0.0.1", PORT="9000", WEB_CONCURRENCY="5", RELOAD="true", LOG_LEVEL="WARNING"
    )
    assert config["bind"] == ["127.0.0.1:9000"]
    assert config["workers"] == 5
    assert config["reload"] is True
    assert config["loglevel"] == "warning"
    assert load_gunicorn_config(monkeypatch, HOST="::1")["bind"] == ["[::1]:8080"]


def test_gunicorn_config_names_are_real_gunicorn_settings(monkeypatch):
    """gunicorn silently ignores unknown names in a config file; a typo would go unnoticed."""
    config = load_gunicorn_config(monkeypatch)
    known = {setting.name for setting in gunicorn.config.KNOWN_SETTINGS}
    ours = {name for name, value in config.items() if not name.startswith("_") and not callable(value)}
    ours -= {"os", "sys", "Path", "ROOT", "load_dotenv", "env_bool", "env_int", "env_str"}
    assert ours - known == set()


def test_gunicorn_accepts_the_config_and_loads_the_app():
    env = {**os.environ, "SECRET_KEY": "gunicorn-check-config", "DEBUG": "false"}
    env.pop("MONGODB_URI", None)
    result = run_python(
        "-m", "gunicorn", "--check-config", "-c", "gunicorn.conf.py", "opsportal.wsgi", env=env, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- CI -----------------------------------------------------------------------------------


def test_ci_workflow_runs_the_readme_test_command_on_sqlite_and_mongodb():
    jobs = load_yaml(".github/workflows/ci.yml")["jobs"]
    assert set(jobs) == {"sqlite", "mongodb"}
    for job in jobs.values():
        steps = job["steps"]
        setup = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python"))
        assert setup["with"]["python-version"] == "3.11"
        assert any(step.get("run", "").strip() == "python3 dev.py test" for step in steps)
        assert job["timeout-minutes"] <= 30

    assert jobs["sqlite"]["env"]["OPSPORTAL_MONGO_COMPILE"] == "1"
    assert "MONGODB_URI" not in jobs["sqlite"].get("env", {})


def test_ci_mongodb_job_starts_a_replica_set_and_points_the_tests_at_it():
    job = load_yaml(".github/workflows/ci.yml")["jobs"]["mongodb"]
    uri = urlsplit(job["env"]["MONGODB_URI"])
    assert (uri.hostname, uri.port, uri.path) == ("localhost", 27017, "/opsportal")
    assert "directConnection=true" in uri.query
    script = "\n".join(step.get("run", "") for step in job["steps"])
    assert "mongo:7" in script
    assert "--replSet rs0" in script
    assert "rs.initiate" in script
    assert "isWritablePrimary" in script, "the tests start only once the node is primary"
    start = next(i for i, step in enumerate(job["steps"]) if "rs.initiate" in step.get("run", ""))
    test = next(i for i, step in enumerate(job["steps"]) if step.get("run", "").strip() == "python3 dev.py test")
    assert start < test


def test_ci_run_script_is_the_test_command_with_compile_mode():
    script = ROOT / ".ci" / "run"
    assert script.stat().st_mode & stat.S_IXUSR
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert "OPSPORTAL_MONGO_COMPILE=1" in text
    assert re.search(r"^exec python3 dev\.py test\b", text, re.MULTILINE)
    assert "/usr/bin/chromium" in text
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True, timeout=30).returncode == 0
