"""The quick start (DESIGN §8): `python3 dev.py run` serves the demo, `python3 dev.py test` runs the checks.

The end-to-end tests start the real run path (migrate, collectstatic, sample data, demo
admin, gunicorn) against a temporary SQLite file on a free port, using the existing
`.venv` (`--no-install`), and always stop the server.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from opsportal.testing.live_gunicorn import live_server_env
from opsportal.testing.orphans import start_from_dev_py, wait_gone
from releases.models import Release
from teams.models import Team

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 120  # seconds; a bound on waiting, not an assertion about speed


def load_dev():
    spec = importlib.util.spec_from_file_location("opsportal_dev_script", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def dev(monkeypatch, tmp_path):
    """dev.py as a module, rooted in an empty temporary project directory."""
    module = load_dev()
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "VENV", tmp_path / ".venv")
    for name in (
        "MONGODB_URI",
        "OPSPORTAL_MONGO_COMPILE",
        "OPSPORTAL_TEST_FLUSH",
        "DEBUG",
        "PORT",
        "HOST",
        "OPSPORTAL_NO_INSTALL",
    ):
        monkeypatch.delenv(name, raising=False)
    return module


class Recorder:
    """Stands in for subprocess.run: records each command and its environment."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple[list[str], dict]] = []
        self.failing = failing

    def __call__(self, command, **kwargs):
        self.calls.append((list(command), kwargs.get("env") or {}))
        code = 1 if any(word in command for word in self.failing) else 0
        return subprocess.CompletedProcess(command, code)

    @property
    def commands(self) -> list[list[str]]:
        return [command for command, _ in self.calls]


# --- dev.py: standard library only, usage ---------------------------------------------------


def test_dev_py_uses_only_the_standard_library():
    tree = ast.parse((ROOT / "dev.py").read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported - sys.stdlib_module_names - {"__future__"} == set()


def test_dev_py_help_and_unknown_command():
    ok = subprocess.run([sys.executable, "dev.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0
    assert "dev.py run" in ok.stdout
    assert "dev.py test" in ok.stdout
    bad = subprocess.run([sys.executable, "dev.py", "deploy"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2
    assert "usage" in bad.stderr


def test_dev_py_refuses_an_old_python(dev):
    dev.MIN_PYTHON = (99, 0)
    with pytest.raises(SystemExit) as exit_info:
        dev.prepare(dev.RUN_REQUIREMENTS, no_install=False)
    assert exit_info.value.code == 1


# --- dev.py: virtual environment and pinned requirements -------------------------------------


def write_requirements(root: Path, runtime: str = "Django==5.2.19\n") -> None:
    (root / "requirements.txt").write_text(runtime)
    (root / "requirements-dev.txt").write_text("-r requirements.txt\npytest==9.2.0\n")


@pytest.fixture
def pip(dev, tmp_path, monkeypatch) -> Recorder:
    """Requirements files and a `.venv` in the project folder; every pip run recorded, none made."""
    write_requirements(tmp_path)
    (tmp_path / ".venv").mkdir()
    recorder = Recorder()
    monkeypatch.setattr(dev.subprocess, "run", recorder)
    return recorder


def test_requirements_installed_once_then_skipped_until_they_change(dev, tmp_path, pip):
    python = tmp_path / ".venv" / "bin" / "python"

    dev.ensure_requirements(python, "requirements.txt")
    dev.ensure_requirements(python, "requirements.txt")
    assert len(pip.calls) == 1
    assert pip.commands[0][1:4] == ["-m", "pip", "install"]
    assert pip.commands[0][-2:] == ["-r", str(tmp_path / "requirements.txt")]

    write_requirements(tmp_path, runtime="Django==5.2.20\n")
    dev.ensure_requirements(python, "requirements.txt")
    assert len(pip.calls) == 2


def test_installing_dev_requirements_covers_the_runtime_ones(dev, tmp_path, pip):
    python = tmp_path / ".venv" / "bin" / "python"

    dev.ensure_requirements(python, "requirements-dev.txt")
    dev.ensure_requirements(python, "requirements.txt")  # included by requirements-dev.txt: nothing to do
    dev.ensure_requirements(python, "requirements-dev.txt")
    assert len(pip.calls) == 1

    # a change in the included file invalidates the dev stamp too
    write_requirements(tmp_path, runtime="Django==5.2.20\n")
    dev.ensure_requirements(python, "requirements-dev.txt")
    assert len(pip.calls) == 2


def test_failed_install_stops_and_leaves_no_stamp(dev, tmp_path, monkeypatch):
    write_requirements(tmp_path)
    (tmp_path / ".venv").mkdir()
    monkeypatch.setattr(dev.subprocess, "run", Recorder(failing=("pip",)))
    with pytest.raises(SystemExit):
        dev.ensure_requirements(tmp_path / ".venv" / "bin" / "python", "requirements.txt")
    assert not list((tmp_path / ".venv").glob(".opsportal-*"))


def test_missing_venv_is_created_with_this_python(dev, tmp_path, monkeypatch):
    def fake_venv(command, **kwargs):
        python = tmp_path / ".venv" / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.touch()
        return subprocess.CompletedProcess(command, 0)

    calls = []
    monkeypatch.setattr(dev.subprocess, "run", lambda command, **kw: calls.append(command) or fake_venv(command))
    assert dev.ensure_venv() == tmp_path / ".venv" / "bin" / "python"
    assert calls == [[sys.executable, "-m", "venv", str(tmp_path / ".venv")]]


def test_no_install_needs_an_existing_venv(dev, monkeypatch):
    monkeypatch.setattr(dev.subprocess, "run", Recorder())
    with pytest.raises(SystemExit):
        dev.prepare(dev.RUN_REQUIREMENTS, no_install=True)


# --- dev.py: environment -----------------------------------------------------------------


def test_dotenv_parsing(dev, tmp_path):
    (tmp_path / ".env").write_text(
        "# comment\n\nDEBUG=false\nexport PORT=9001\nSECRET_KEY='a b#c'\nHOST=\"::\"\nLOG_LEVEL=DEBUG  # note\n"
    )
    assert dev.read_dotenv(tmp_path / ".env") == {
        "DEBUG": "false",
        "PORT": "9001",
        "SECRET_KEY": "a b#c",
        "HOST": "::",
        "LOG_LEVEL": "DEBUG",
    }


def test_environment_beats_dotenv_beats_demo_defaults(dev, tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("PORT=9001\nDEBUG=false\n")
    monkeypatch.setenv("PORT", "9002")
    env = dev.build_env(dev.RUN_DEFAULTS)
    assert env["PORT"] == "9002"
    assert env["DEBUG"] == "false"
    assert env["OPSPORTAL_ANONYMOUS_READ"] == "true"
    assert env["HOST"] == "127.0.0.1"


# --- dev.py run -------------------------------------------------------------------------------


class Exec(Exception):
    pass


def fake_execve(path, argv, env):
    raise Exec(argv, env)


def test_run_prepares_the_database_then_execs_gunicorn(dev, tmp_path, monkeypatch, capsys):
    manage = Recorder()
    started: list[list[str]] = []
    monkeypatch.setattr(dev, "prepare", lambda requirements, no_install: Path("/venv/bin/python"))
    monkeypatch.setattr(dev.subprocess, "run", manage)
    environments: list[dict[str, str]] = []
    monkeypatch.setattr(
        dev.subprocess, "Popen", lambda command, **kwargs: started.append(command) or environments.append(kwargs["env"])
    )
    monkeypatch.setattr(dev.os, "execve", fake_execve)
    monkeypatch.setattr(dev.os, "chdir", lambda path: None)
    monkeypatch.delenv("OPSPORTAL_DEMO_USER", raising=False)
    monkeypatch.delenv("OPSPORTAL_DEMO_PASSWORD", raising=False)

    with pytest.raises(Exec) as exec_info:
        dev.command_run(no_install=False)

    steps = [command[2] for command in manage.commands]
    assert [command[1] for command in manage.commands] == ["manage.py"] * 4
    assert steps == ["migrate", "collectstatic", "load_sample_data_if_empty", "ensure_demo_admin"]
    assert ["collectstatic", "--noinput"] == manage.commands[1][2:4]
    # one worker beside the server, stopping with it (issue #11)
    assert started == [
        ["/venv/bin/python", "manage.py", "run_worker", "--exit-with-parent", str(os.getpid())],
        # and the ASGI server of GraphQL subscriptions, also stopping with it (issue #15)
        ["/venv/bin/python", "-m", "gunicorn", "-c", str(tmp_path / "gunicorn.asgi.conf.py")],
    ]
    assert environments[1]["EXIT_WITH_PARENT_PID"] == str(os.getpid())  # this process, which becomes gunicorn
    argv, env = exec_info.value.args
    assert argv[1:5] == ["-m", "gunicorn", "-c", str(tmp_path / "gunicorn.conf.py")]
    assert argv[-1] == "opsportal.wsgi:application"
    assert env["DEBUG"] == "true"
    assert env["OPSPORTAL_ANONYMOUS_READ"] == "true"
    assert (env["HOST"], env["PORT"]) == ("127.0.0.1", "8080")

    out = capsys.readouterr().out
    for url in ("/api/v1/", "/docs", "/redoc", "/admin/", "/health", "/graphql"):
        assert f"http://127.0.0.1:8080{url}" in out
    assert "admin / admin" in out


def test_run_stops_when_a_step_fails(dev, monkeypatch):
    monkeypatch.setattr(dev, "prepare", lambda requirements, no_install: Path("/venv/bin/python"))
    monkeypatch.setattr(dev.subprocess, "run", Recorder(failing=("migrate",)))
    monkeypatch.setattr(dev.os, "execve", fake_execve)
    with pytest.raises(SystemExit) as exit_info:
        dev.command_run(no_install=False)
    assert exit_info.value.code != 0


def test_run_refuses_a_mongodb_without_transactions_before_anything_else(dev, monkeypatch):
    monkeypatch.setenv("MONGODB_URI", "mongodb://localhost:27017/opsportal")
    monkeypatch.setattr(dev, "prepare", lambda requirements, no_install: Path("/venv/bin/python"))
    runner = Recorder(failing=("from opsportal.checks import main; main()",))
    monkeypatch.setattr(dev.subprocess, "run", runner)
    monkeypatch.setattr(dev.os, "execve", fake_execve)
    with pytest.raises(SystemExit) as exit_info:
        dev.command_run(no_install=False)
    assert exit_info.value.code == 1
    assert runner.commands == [["/venv/bin/python", "-c", "from opsportal.checks import main; main()"]]


# --- dev.py test ------------------------------------------------------------------------------


def test_test_runs_every_check_then_pytest_with_compile_mode(dev, monkeypatch):
    runner = Recorder()
    monkeypatch.setattr(dev, "prepare", lambda requirements, no_install: Path("/venv/bin/python"))
    monkeypatch.setattr(dev.subprocess, "run", runner)

    assert dev.command_test(no_install=False, pytest_args=["-k", "health", "-x"]) == 0

    commands = [command[1:] for command in runner.commands]
    assert commands[0] == ["-m", "ruff", "check", "."]
    assert commands[1] == ["-m", "ruff", "format", "--check", "."]
    assert commands[2] == ["manage.py", "makemigrations", "--check", "--dry-run"]
    assert commands[3][:4] == ["manage.py", "spectacular", "--validate", "--fail-on-warn"]
    assert commands[3][4] == "--file"
    assert commands[4] == ["manage.py", "graphql_schema", "--check"]  # issue #15
    assert commands[5] == ["-m", "pytest", "-k", "health", "-x"]
    pytest_env = runner.calls[5][1]
    assert pytest_env["OPSPORTAL_MONGO_COMPILE"] == "1"
    assert pytest_env["SECRET_KEY"]
    assert "OPSPORTAL_TEST_FLUSH" not in pytest_env
    # then the whole suite again, flushing between tests instead of rolling back (as on MongoDB),
    # without the tests the first run covered that per-test isolation cannot change
    assert commands[6] == ["-m", "pytest", "-m", "not live_server_gunicorn and not browser", "-k", "health", "-x"]
    assert runner.calls[6][1]["OPSPORTAL_TEST_FLUSH"] == "1"
    assert runner.calls[6][1]["OPSPORTAL_MONGO_COMPILE"] == "1"
    # then the MongoDB execute mode's differential suite (issue #17), whatever the user's arguments
    assert commands[7] == ["-m", "pytest", "tests/mongo_execute", "opsportal/tests/test_mongo_emulator.py"]
    assert runner.calls[7][1]["OPSPORTAL_MONGO_EXECUTE"] == "1"
    assert "OPSPORTAL_TEST_FLUSH" not in runner.calls[7][1]
    assert len(commands) == 8


def test_the_flush_run_keeps_the_users_own_mark_selection(dev, monkeypatch):
    runner = Recorder()
    monkeypatch.setattr(dev, "prepare", lambda requirements, no_install: Path("/venv/bin/python"))
    monkeypatch.setattr(dev.subprocess, "run", runner)
    assert dev.command_test(no_install=False, pytest_args=["-m", "browser"]) == 0
    assert runner.commands[6][1:] == ["-m", "pytest", "-m", "browser"]


def test_test_uses_real_mongodb_when_mongodb_uri_is_set(dev, monkeypatch, capsys):
    runner = Recorder()
    monkeypatch.setattr(dev, "prepare", lambda requirements, no_install: Path("/venv/bin/python"))
    monkeypatch.setattr(dev.subprocess, "run", runner)
    monkeypatch.setenv("MONGODB_URI", "mongodb://ci:hunter2@localhost:27017/opsportal")

    assert dev.command_test(no_install=False, pytest_args=[]) == 0
    assert "OPSPORTAL_MONGO_COMPILE" not in runner.calls[5][1]
    assert len(runner.calls) == 6, "one pytest run: on MongoDB it flushes between tests already (and no emulator)"
    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert "mongodb://ci:***@localhost:27017/opsportal" in out


def test_test_fails_when_any_check_fails_but_runs_them_all(dev, monkeypatch, capsys):
    runner = Recorder(failing=("format",))
    monkeypatch.setattr(dev, "prepare", lambda requirements, no_install: Path("/venv/bin/python"))
    monkeypatch.setattr(dev.subprocess, "run", runner)

    assert dev.command_test(no_install=False, pytest_args=[]) == 1
    assert len(runner.calls) == 8
    assert "failed: ruff format --check" in capsys.readouterr().err


def test_main_passes_extra_arguments_to_pytest(dev, monkeypatch):
    seen = {}
    monkeypatch.setattr(
        dev, "command_test", lambda no_install, args: seen.update(no_install=no_install, args=args) or 0
    )
    assert dev.main(["test", "--no-install", "tests/test_health.py", "-q"]) == 0
    assert seen == {"no_install": True, "args": ["tests/test_health.py", "-q"]}


# --- management commands used by the run --------------------------------------------------------


@pytest.mark.django_db
def test_ensure_demo_admin_creates_the_superuser_once(monkeypatch):
    monkeypatch.delenv("OPSPORTAL_DEMO_USER", raising=False)
    monkeypatch.delenv("OPSPORTAL_DEMO_PASSWORD", raising=False)
    call_command("ensure_demo_admin")
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.check_password("admin")

    user.set_password("changed-by-the-user")
    user.save()
    call_command("ensure_demo_admin")
    assert get_user_model().objects.get(username="admin").check_password("changed-by-the-user")
    assert get_user_model().objects.count() == 1

    call_command("ensure_demo_admin", "--reset-password")
    assert get_user_model().objects.get(username="admin").check_password("admin")


@pytest.mark.django_db
def test_ensure_demo_admin_reads_the_demo_variables(monkeypatch):
    monkeypatch.setenv("OPSPORTAL_DEMO_USER", "demo")
    monkeypatch.setenv("OPSPORTAL_DEMO_PASSWORD", "demo-pass-42")
    call_command("ensure_demo_admin")
    assert get_user_model().objects.get(username="demo").check_password("demo-pass-42")


def write_fixture(path: Path) -> Path:
    at = {"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
    team = {"name": "QA", "members": [], "projects": [], **at}
    release = {"name": "First", "version": "1.0.0", "team": "qa", "features": [], "approvals": [], **at}
    path.write_text(
        json.dumps(
            [
                {"model": "teams.team", "pk": "qa", "fields": team},
                {"model": "releases.release", "pk": "release-1", "fields": release},
            ]
        )
    )
    return path


@pytest.mark.django_db
def test_sample_data_loads_into_an_empty_database_only(tmp_path):
    fixture = write_fixture(tmp_path / "sample.json")
    call_command("load_sample_data_if_empty", "--fixture", str(fixture))
    assert list(Release.objects.values_list("version", flat=True)) == ["1.0.0"]

    Release.objects.filter(pk="release-1").update(name="Edited by a user")
    call_command("load_sample_data_if_empty", "--fixture", str(fixture))
    assert Release.objects.get(pk="release-1").name == "Edited by a user"


@pytest.mark.django_db
def test_sample_data_skipped_when_the_fixture_is_missing(tmp_path, capsys):
    call_command("load_sample_data_if_empty", "--fixture", str(tmp_path / "nope.json"))
    assert Release.objects.count() == 0
    assert "not found" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_project_sample_data_loads():
    if not (ROOT / "fixtures" / "sample_data.json").is_file():
        pytest.skip("fixtures/sample_data.json not written yet")
    call_command("load_sample_data_if_empty")
    expected = json.loads((ROOT / "fixtures" / "sample_data.json").read_text())
    assert Release.objects.count() == sum(1 for obj in expected if obj["model"] == "releases.release") > 0
    assert Team.objects.exists()


# --- documentation covers every variable ---------------------------------------------------------

_ENV_READ = re.compile(r"""(?:env_(?:str|bool|int|list)|os\.environ\.get|os\.getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def variables_read_by_the_project() -> set[str]:
    sources = [ROOT / "dev.py", ROOT / "gunicorn.conf.py"]
    sources += [p for p in (ROOT / "opsportal").rglob("*.py") if "testing" not in p.parts and "tests" not in p.parts]
    names = {name for path in sources for name in _ENV_READ.findall(path.read_text())}
    names |= set(load_dev().RUN_DEFAULTS)
    return names - {"DJANGO_SETTINGS_MODULE"}


def test_every_variable_is_documented_in_env_example_and_readme():
    names = variables_read_by_the_project()
    assert {"DEBUG", "SECRET_KEY", "MONGODB_URI", "PORT", "WEB_CONCURRENCY"} <= names
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    missing_example = sorted(n for n in names if not re.search(rf"^#? ?{n}=", example, re.MULTILINE))
    missing_readme = sorted(n for n in names if f"`{n}`" not in readme)
    assert missing_example == []
    assert missing_readme == []


# --- end to end: the real `dev.py run` ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept": "*/*"})  # noqa: S310 - http://127.0.0.1 only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def fetch_html(url: str) -> str:
    request = urllib.request.Request(url, headers={"Accept": "text/html"})  # noqa: S310 - http://127.0.0.1 only
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.read().decode()


class Portal:
    def __init__(self, base: str, process: subprocess.Popen, log: Path, database: Path) -> None:
        self.base, self.process, self.log, self.database = base, process, log, database

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return fetch(self.base + path)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def running_portal(tmp_path: Path, **env_overrides: str) -> Iterator[Portal]:
    """`python dev.py run --no-install` on a free port, a temporary SQLite file and STATIC_ROOT."""
    port, ws_port = free_port(), free_port()
    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    # Only STATIC_ROOT moves (out of the working tree); everything else is the real settings.
    (settings_dir / "quickstart_settings.py").write_text(
        f"from opsportal.settings import *  # noqa: F403\nSTATIC_ROOT = {str(tmp_path / 'static')!r}\n"
    )
    drop = {"DEBUG", "SECRET_KEY", "MONGODB_URI", "HOST", "PORT", "OPSPORTAL_ANONYMOUS_READ", "RELOAD"}
    drop |= {"OPSPORTAL_DEMO_USER", "OPSPORTAL_DEMO_PASSWORD", "OPSPORTAL_MONGO_COMPILE"}
    env = {name: value for name, value in os.environ.items() if name not in drop}
    env.update(
        PORT=str(port),
        GRAPHQL_WS_PORT=str(ws_port),
        OPSPORTAL_SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        WEB_CONCURRENCY="1",
        DJANGO_SETTINGS_MODULE="quickstart_settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(settings_dir), os.environ.get("PYTHONPATH")])),
        **env_overrides,
    )
    log = tmp_path / "dev-run.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "dev.py", "run", "--no-install"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    portal = Portal(f"http://127.0.0.1:{port}", process, log, tmp_path / "db.sqlite3")
    portal.ws_base = f"http://127.0.0.1:{ws_port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"dev.py run exited with {process.returncode}:\n{portal.output()}")
            with contextlib.suppress(OSError):
                if portal.get("/health")[0] == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"/health did not answer 200 within {STARTUP_TIMEOUT}s:\n{portal.output()}")
            time.sleep(0.3)
        yield portal
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def static_urls(html: bytes) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html.decode())


@pytest.mark.live_server_gunicorn
def test_dev_py_run_serves_the_demo_end_to_end(tmp_path):
    with running_portal(tmp_path) as portal:
        status, _, body = portal.get("/health")
        assert status == 200
        assert json.loads(body)["database"] == "ok"
        for path in ("/docs", "/redoc", "/api/schema/", "/admin/login/"):
            assert portal.get(path)[0] == 200, path
        docs = portal.get("/docs")[2]
        assert static_urls(docs)
        for url in static_urls(docs) + static_urls(portal.get("/redoc")[2]):
            assert portal.get(url)[0] == 200, url

        # the demo lets anonymous clients read
        status, _, body = portal.get("/api/v1/teams")
        assert status == 200
        assert "results" in json.loads(body)

        # GraphQL (issue #15): GraphiQL with local assets; the subscriptions server beside, on its own port
        graphiql = fetch_html(portal.base + "/graphql")
        assert "unpkg" not in graphiql and static_urls(graphiql.encode())
        for url in static_urls(graphiql.encode()):
            assert portal.get(url)[0] == 200, url
        (script,) = re.findall(r'src="(/graphql/graphiql\.min\.js[^"]*)"', graphiql)  # from its gzip copy
        status, _, body = portal.get(script)  # urllib asks for no gzip: the decoded script
        assert status == 200 and len(body) > 3 * 1024 * 1024, script
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            with contextlib.suppress(OSError):
                if fetch(portal.ws_base + "/health")[0] == 200:
                    break
            assert time.monotonic() < deadline, portal.output()
            time.sleep(0.3)
        output = portal.output()

    assert f"{portal.base}/docs" in output
    assert f"{portal.base}/admin/" in output
    assert "admin / admin" in output
    assert '"GET /health HTTP/1.1" 200' in output  # gunicorn's access log on stdout
    with contextlib.closing(sqlite3.connect(portal.database)) as db:
        assert db.execute("select is_superuser from auth_user where username = 'admin'").fetchall() == [(1,)]
        releases = db.execute("select count(*) from releases_release").fetchone()[0]
    if (ROOT / "fixtures" / "sample_data.json").is_file():
        assert releases > 0, "sample data is loaded into the empty database"
    assert portal.process.returncode is not None, "the server was stopped"


@pytest.mark.live_server_gunicorn
def test_dev_py_run_with_production_settings(tmp_path):
    """DEBUG off: the real secret key check, hashed static files served by whitenoise, no anonymous reads."""
    with running_portal(
        tmp_path, DEBUG="false", SECRET_KEY="quickstart-production-check-key", OPSPORTAL_ANONYMOUS_READ="false"
    ) as portal:
        docs = portal.get("/docs")
        assert docs[0] == 200
        assets = static_urls(docs[2])
        assert assets
        assert all(re.search(r"\.[0-9a-f]{12}\.", url) for url in assets), assets  # manifest names
        for url in assets:
            status, headers, _ = portal.get(url)
            assert status == 200, url
            assert "max-age" in headers.get("Cache-Control", ""), url
        assert portal.get("/api/v1/teams")[0] == 401
        assert portal.get("/admin/login/")[0] == 200
        with pytest.raises(urllib.error.HTTPError) as graphiql:  # GraphiQL: staff only without DEBUG
            fetch_html(portal.base + "/graphql")
        assert graphiql.value.code == 404


@pytest.mark.live_server_gunicorn
@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize(
    "parent_lives",
    [0.0, 3.0],
    ids=["parent-ends-before-the-server-is-up", "parent-ends-while-the-server-runs"],
)
def test_the_subscriptions_server_of_dev_py_run_stops_with_its_parent(tmp_path, parent_lives):
    """`EXIT_WITH_PARENT_PID`: the ASGI server `dev.py run` starts beside gunicorn ends when gunicorn does,
    however long it takes to start."""
    env = {**live_server_env(tmp_path, free_port()), "GRAPHQL_WS_PORT": str(free_port()), "LOG_LEVEL": "INFO"}
    log = tmp_path / "asgi.log"
    pid = start_from_dev_py("start_subscriptions_server", env, log, parent_lives)
    wait_gone(pid, timeout=STARTUP_TIMEOUT, what="the orphaned subscriptions server")
    output = log.read_text(errors="replace")
    assert "Handling signal: term" in output, output  # stopped by its watch, not by failing to start
