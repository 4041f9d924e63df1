"""gunicorn settings for Ops Portal: `gunicorn -c gunicorn.conf.py opsportal.wsgi`.

Everything comes from the environment (and `.env`, which never overrides a variable that
is already set), with the same readers and names as the Django settings:
HOST, PORT, WEB_CONCURRENCY, WEB_THREADS, RELOAD, LOG_LEVEL. Any other gunicorn option can be given
on the command line or in GUNICORN_CMD_ARGS.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dotenv import load_dotenv  # noqa: E402

load_dotenv(ROOT / ".env", override=False)

from opsportal.env import env_bool, env_int, env_str  # noqa: E402

_host = env_str("HOST", "0.0.0.0")  # noqa: S104 - a server in a container must listen on every interface
_port = env_int("PORT", 8080)

wsgi_app = "opsportal.wsgi:application"
chdir = str(ROOT)


def _bind_to(port: int) -> list[str]:
    return [f"[{_host}]:{port}" if ":" in _host and not _host.startswith("[") else f"{_host}:{port}"]


bind = _bind_to(_port)
workers = env_int("WEB_CONCURRENCY", 2)
# Threaded workers: an open event stream (`GET /api/v1/events/stream`, Server-Sent Events) holds one of a
# worker's WEB_THREADS threads, not the whole process, so API requests keep being served beside open streams;
# the portal caps streams per worker below that (OPSPORTAL_SSE_MAX_STREAMS). README "Webhooks and events".
worker_class = "gthread"
threads = env_int("WEB_THREADS", 128)
reload = env_bool("RELOAD", False)

# A worker whose main loop is silent for a minute is stuck and gets replaced (with gthread, long requests
# such as event streams do not count: the loop goes on beside them).
timeout = 60
graceful_timeout = 30
keepalive = 5

accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'
_level = env_str("LOG_LEVEL", "INFO").lower()
loglevel = {"warn": "warning", "fatal": "critical"}.get(_level, _level)

# Recent gunicorn opens a control socket in ~/.gunicorn by default; two servers on one machine
# (a demo and a test run) would fight over it, and nothing here uses it.
control_socket_disable = True


def on_starting(server):
    """Before the first worker: on MongoDB, refuse a standalone server (no transactions, DESIGN §3)
    with one line on stderr and exit status 1 (`opsportal.checks`). In a child process, so that this
    master process imports no Django (workers import the app afresh, and RELOAD keeps working)."""
    if not env_str("MONGODB_URI", ""):
        return
    import subprocess

    command = [sys.executable, "-c", "from opsportal.checks import main; main()"]
    if subprocess.call(command, cwd=ROOT) != 0:  # noqa: S603 - our own interpreter and module
        raise SystemExit(1)


def post_worker_init(worker):
    """Once the worker has loaded the app: load the URL conf (every view, serializer and schema module), then
    move everything alive so far out of the garbage collector's sight (`gc.freeze`). Those long-lived objects
    would otherwise be scanned by every full collection — a pause of about 50 ms of the whole worker every few
    seconds under load, which showed as the write mix's p99 (BENCHMARKS.md). Objects made by requests are
    collected as before."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the views and everything they use
    gc.collect()
    gc.freeze()


# Heartbeat files on tmpfs: a disk-backed /tmp can stall workers in containers.
if os.path.isdir("/dev/shm"):  # noqa: S108 - a well-known tmpfs, read-only check
    worker_tmp_dir = "/dev/shm"  # noqa: S108
