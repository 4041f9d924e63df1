#!/usr/bin/env python3
"""Ops Portal quick start: one command runs the portal, one command runs the checks.

    python3 dev.py run  [--no-install]                  # demo server on http://127.0.0.1:8080
    python3 dev.py test [--no-install] [PYTEST_ARGS...]  # lint, migrations, OpenAPI, pytest (twice)

Both create `.venv` when it is missing and install the pinned requirements into it
(`requirements.txt` for run, `requirements-dev.txt` for test). A stamp file in `.venv`
holds a hash of the requirements files, so pip only runs again when they change;
`--no-install` (or `OPSPORTAL_NO_INSTALL=1`) skips pip altogether.

Variables come from the environment, then from `.env`, then from the demo defaults
below. This file uses the standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
MIN_PYTHON = (3, 11)
RUN_REQUIREMENTS = "requirements.txt"
TEST_REQUIREMENTS = "requirements-dev.txt"

# `dev.py run` is a local demo: debug pages, anonymous reads, a known admin login, loopback only.
RUN_DEFAULTS = {
    "DEBUG": "true",
    "OPSPORTAL_ANONYMOUS_READ": "true",
    "HOST": "127.0.0.1",
    "PORT": "8080",
    "OPSPORTAL_DEMO_USER": "admin",
    "OPSPORTAL_DEMO_PASSWORD": "admin",
    # The demo's webhooks may go to a receiver on this machine (production refuses private targets).
    "OPSPORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
}
# `dev.py test` checks run with production-like settings (DEBUG off), which need non-default keys.
TEST_DEFAULTS = {
    "SECRET_KEY": "opsportal-dev-test-key-not-for-production",
    "AUDIT_SIGNING_KEY": "opsportal-dev-test-audit-key-not-for-production",
}
# The second pytest pass on SQLite: no per-test rollback, Django flushes between tests as on MongoDB
# (opsportal/testing/flush_mode.py). It leaves out the tests against a separate gunicorn (their
# server has its own database, which per-test isolation never touches) and the browser tests
# (already transactional, i.e. flushed, in the first pass): both ran in the first pass.
FLUSH_ENV = "OPSPORTAL_TEST_FLUSH"
FLUSH_RUN_MARKS = "not live_server_gunicorn and not browser"
# The MongoDB execute mode (issue #17; opsportal/testing/mongo_execute.py): the differential suite on
# django-mongodb-backend over an in-process emulator, compared with SQLite. Not with MONGODB_URI: a real
# server is the arbiter.
EXECUTE_ENV = "OPSPORTAL_MONGO_EXECUTE"
EXECUTE_RUN_PATHS = ["tests/mongo_execute", "opsportal/tests/test_mongo_emulator.py"]

USAGE = """usage: python3 dev.py run  [--no-install]
       python3 dev.py test [--no-install] [PYTEST_ARGS...]

  run    create .venv, install requirements.txt, migrate, collect static files, load the
         sample data into an empty database, ensure the demo admin, serve with gunicorn
         and one worker beside it (manage.py run_worker: webhooks, periodic jobs) and the
         ASGI server of GraphQL subscriptions (gunicorn.asgi.conf.py, port 8082)
  test   create .venv, install requirements-dev.txt, then ruff check, ruff format --check,
         makemigrations --check, the OpenAPI schema check, the schema.graphql check and pytest (MongoDB compile mode
         on unless MONGODB_URI is set), then pytest again flushing the database between
         tests instead of rolling back (on MongoDB the one run already does), then the
         MongoDB execute mode's differential suite (not with MONGODB_URI); extra
         arguments go to the first two pytest runs

  --no-install   use .venv as it is (also: OPSPORTAL_NO_INSTALL=1)
"""


def say(message: str) -> None:
    print(f"[dev.py] {message}", flush=True)


def fail(message: str, code: int = 1) -> None:
    print(f"[dev.py] error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)


# --- virtual environment -------------------------------------------------------------


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def ensure_venv() -> Path:
    python = venv_python()
    if python.exists():
        return python
    say(f"Creating virtual environment in {VENV.relative_to(ROOT)}/ ...")
    result = subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=False)  # noqa: S603
    if result.returncode != 0 or not python.exists():
        fail(
            "could not create .venv. On Debian/Ubuntu install the venv module first "
            "(sudo apt install python3-venv), then run this command again."
        )
    return python


def requirement_closure(name: str) -> list[Path]:
    """The requirements file and every file it includes with -r / -c, in order."""
    seen: list[Path] = []

    def visit(path: Path) -> None:
        if path in seen:
            return
        if not path.is_file():
            fail(f"{path.relative_to(ROOT)} not found.")
        seen.append(path)
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("#", 1)[0].split()
            if len(parts) == 2 and parts[0] in {"-r", "--requirement", "-c", "--constraint"}:
                visit((path.parent / parts[1]).resolve())

    visit((ROOT / name).resolve())
    return seen


def requirements_hash(name: str, python: Path) -> str:
    digest = hashlib.sha256(str(python).encode())
    for path in requirement_closure(name):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def stamp_path(name: str) -> Path:
    return VENV / f".opsportal-{name}.sha256"


def ensure_requirements(python: Path, name: str) -> None:
    wanted = requirements_hash(name, python)
    stamp = stamp_path(name)
    if stamp.is_file() and stamp.read_text().strip() == wanted:
        return
    say(f"Installing pinned packages from {name} (the first time takes a minute) ...")
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(ROOT / name)]
    if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:  # noqa: S603 - our venv's pip
        fail(f"pip could not install {name} (see the messages above).")
    stamp.write_text(wanted + "\n")
    # Files included by this one (requirements-dev.txt includes requirements.txt) are installed too.
    for included in requirement_closure(name)[1:]:
        if included.parent == ROOT and included.name in {RUN_REQUIREMENTS, TEST_REQUIREMENTS}:
            stamp_path(included.name).write_text(requirements_hash(included.name, python) + "\n")


def prepare(requirements: str, no_install: bool) -> Path:
    if sys.version_info < MIN_PYTHON:
        fail(f"Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed (this is {sys.version.split()[0]}).")
    if no_install:
        python = venv_python()
        if not python.exists():
            fail("--no-install needs an existing .venv; run once without it.")
        return python
    python = ensure_venv()
    ensure_requirements(python, requirements)
    return python


# --- environment ---------------------------------------------------------------------


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments, blank lines, `export` and quotes allowed)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def build_env(defaults: dict[str, str]) -> dict[str, str]:
    """Process environment first, then .env, then our defaults."""
    env = {**defaults, **read_dotenv(ROOT / ".env"), **os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def manage(python: Path, env: dict[str, str], *args: str) -> None:
    say("manage.py " + " ".join(args))
    result = subprocess.run([str(python), "manage.py", *args], cwd=ROOT, env=env, check=False)  # noqa: S603
    if result.returncode != 0:
        fail(f"`manage.py {' '.join(args)}` failed (exit {result.returncode}).", result.returncode)


def redact(uri: str) -> str:
    """A MongoDB URI without its password, for printing."""
    scheme, sep, rest = uri.partition("://")
    if sep and "@" in rest:
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return uri


# --- commands ------------------------------------------------------------------------


def command_run(no_install: bool) -> None:
    if os.name == "nt":  # gunicorn needs a POSIX system: say so before doing anything
        fail("gunicorn does not run on Windows; use WSL or docker compose.")
    python = prepare(RUN_REQUIREMENTS, no_install)
    env = build_env(RUN_DEFAULTS)

    if env.get("MONGODB_URI"):
        # A standalone MongoDB (no transactions) is refused up front, in one line (opsportal.checks).
        say(f"checking MongoDB at {redact(env['MONGODB_URI'])} runs transactions ...")
        check = [str(python), "-c", "from opsportal.checks import main; main()"]
        code = subprocess.run(check, cwd=ROOT, env=env, check=False).returncode  # noqa: S603
        if code != 0:
            raise SystemExit(code)
    manage(python, env, "migrate", "--noinput")
    manage(python, env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(python, env, "load_sample_data_if_empty")
    manage(python, env, "ensure_demo_admin")

    host, port = env.get("HOST") or RUN_DEFAULTS["HOST"], env.get("PORT") or RUN_DEFAULTS["PORT"]
    user = env.get("OPSPORTAL_DEMO_USER") or RUN_DEFAULTS["OPSPORTAL_DEMO_USER"]
    password = env.get("OPSPORTAL_DEMO_PASSWORD") or RUN_DEFAULTS["OPSPORTAL_DEMO_PASSWORD"]
    ws_port = env.get("GRAPHQL_WS_PORT") or "8082"
    shown = "localhost" if host in {"0.0.0.0", "::", "[::]"} else host  # noqa: S104 - display only
    base = f"http://{shown}:{port}"
    database = (
        f"MongoDB {redact(env['MONGODB_URI'])}"
        if env.get("MONGODB_URI")
        else f"SQLite {env.get('OPSPORTAL_SQLITE_PATH') or ROOT / 'db.sqlite3'}"
    )
    print(
        "\n"
        f"  Ops Portal on {base}  (database: {database})\n"
        f"    API          {base}/api/v1/\n"
        f"    API docs     {base}/docs   ReDoc {base}/redoc   schema {base}/api/schema/\n"
        f"    Admin        {base}/admin/\n"
        f"    Health       {base}/health\n"
        f"    Events       {base}/api/v1/events/stream (live)   webhooks {base}/api/v1/webhooks\n"
        f"    GraphQL      {base}/graphql (GraphiQL in a browser)   subscriptions ws://{shown}:{ws_port}/graphql\n"
        "    Worker       manage.py run_worker (webhook deliveries, periodic jobs) runs beside the server\n"
        f"    Login        {user} / {password}\n"
        f"  DEBUG={env.get('DEBUG')}  OPSPORTAL_ANONYMOUS_READ={env.get('OPSPORTAL_ANONYMOUS_READ')}"
        "  (set HOST=0.0.0.0 to listen on all interfaces; Ctrl+C stops)\n",
        flush=True,
    )
    start_worker(python, env)
    start_subscriptions_server(python, env)
    argv = [str(python), "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "opsportal.wsgi:application"]
    os.chdir(ROOT)
    os.execve(argv[0], argv, env)  # noqa: S606 - replaces this process with the server, by design


def start_worker(python: Path, env: dict[str, str]) -> subprocess.Popen:
    """One `manage.py run_worker` beside the server (webhook deliveries, periodic jobs). Its parent becomes the
    gunicorn master (this process execs it, keeping its PID): the worker stops when the server does
    (`--exit-with-parent PID`, given here so that a worker slow to start still knows whose end to watch), and
    Ctrl+C reaches both."""
    say("manage.py run_worker --exit-with-parent (webhook deliveries and periodic jobs, beside the server)")
    command = [str(python), "manage.py", "run_worker", "--exit-with-parent", str(os.getpid())]
    return subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - our venv's python, our manage.py


def start_subscriptions_server(python: Path, env: dict[str, str]) -> subprocess.Popen:
    """The ASGI server of GraphQL subscriptions (WebSocket /graphql) beside the REST one (README "GraphQL"),
    stopping with it like the worker."""
    say("gunicorn -c gunicorn.asgi.conf.py (GraphQL subscriptions over WebSocket, beside the server)")
    command = [str(python), "-m", "gunicorn", "-c", str(ROOT / "gunicorn.asgi.conf.py")]
    return subprocess.Popen(command, cwd=ROOT, env={**env, "EXIT_WITH_PARENT_PID": str(os.getpid())})  # noqa: S603 - our venv's gunicorn


def flush_run_args(pytest_args: list[str]) -> list[str]:
    """pytest arguments of the flush pass: the user's, minus the tests that the first pass already ran
    and that per-test isolation cannot change (unless the user chose tests by mark themselves)."""
    if any(arg.startswith("-m") for arg in pytest_args):
        return list(pytest_args)
    return ["-m", FLUSH_RUN_MARKS, *pytest_args]


def command_test(no_install: bool, pytest_args: list[str]) -> int:
    python = prepare(TEST_REQUIREMENTS, no_install)
    env = build_env(TEST_DEFAULTS)
    on_mongodb = bool(env.get("MONGODB_URI"))
    if on_mongodb:
        say(
            f"MONGODB_URI is set: the tests run against MongoDB at {redact(env['MONGODB_URI'])},"
            " flushing the database between tests."
        )
    else:
        env.setdefault("OPSPORTAL_MONGO_COMPILE", "1")

    with tempfile.TemporaryDirectory(prefix="opsportal-schema-") as tmp:
        schema = str(Path(tmp) / "openapi.yaml")
        steps = [
            ("ruff check", [str(python), "-m", "ruff", "check", "."]),
            ("ruff format --check", [str(python), "-m", "ruff", "format", "--check", "."]),
            ("migrations up to date", [str(python), "manage.py", "makemigrations", "--check", "--dry-run"]),
            (
                "OpenAPI schema valid",
                [str(python), "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", schema],
            ),
            ("GraphQL schema.graphql up to date", [str(python), "manage.py", "graphql_schema", "--check"]),
            ("pytest", [str(python), "-m", "pytest", *pytest_args]),
        ]
        extra_env: dict[str, dict[str, str]] = {}
        if not on_mongodb:  # (on MongoDB the one pytest run already flushes between tests)
            title = "pytest (flush between tests)"
            steps.append((title, [str(python), "-m", "pytest", *flush_run_args(pytest_args)]))
            extra_env[title] = {FLUSH_ENV: "1"}
            title = "pytest (MongoDB execute mode)"
            steps.append((title, [str(python), "-m", "pytest", *EXECUTE_RUN_PATHS]))
            extra_env[title] = {EXECUTE_ENV: "1"}
        results: list[tuple[str, int, float]] = []
        for title, command in steps:
            step_env = {**env, **extra_env.get(title, {})}
            shown = " ".join(f"{k}={v}" for k, v in extra_env.get(title, {}).items())
            say(f"{title}: {shown + ' ' if shown else ''}{shlex.join(['python', *command[1:]])}")
            started = time.monotonic()
            code = subprocess.run(command, cwd=ROOT, env=step_env, check=False).returncode  # noqa: S603
            results.append((title, code, time.monotonic() - started))

    print("\n[dev.py] summary", flush=True)
    for title, code, seconds in results:
        print(f"  {'ok  ' if code == 0 else 'FAIL'}  {title}  ({seconds:.1f}s)", flush=True)
    failed = [title for title, code, _ in results if code != 0]
    if failed:
        print(f"[dev.py] failed: {', '.join(failed)}", file=sys.stderr, flush=True)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    no_install = is_true(os.environ.get("OPSPORTAL_NO_INSTALL"))
    if "--no-install" in rest:
        rest.remove("--no-install")
        no_install = True
    if command == "run":
        if rest:
            fail(f"`run` takes no arguments besides --no-install (got {' '.join(rest)}); use HOST/PORT variables.", 2)
        command_run(no_install)
        return 0
    if command == "test":
        return command_test(no_install, rest)
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
