"""gunicorn settings of the ASGI server: `gunicorn -c gunicorn.asgi.conf.py` (`dev.py run` and docker-compose
start it beside the REST server). It serves GraphQL subscriptions on the WebSocket `/graphql` (and, as any
ASGI server of the app, the HTTP pages too), with uvicorn workers: an open subscription waits on the event
loop and holds no thread.

Why a second server and not uvicorn workers for everything (README "GraphQL"): the REST API stays on the
threaded WSGI workers it was measured on (`gunicorn.conf.py`), so its numbers do not move; Django's sync views
under ASGI would each pay a hop to a thread. Everything else (logging, the MongoDB start-up check, timeouts)
is the REST server's: this file runs `gunicorn.conf.py` first and changes only what differs.

HOST as for REST; GRAPHQL_WS_PORT (8082); WS_CONCURRENCY worker processes (1: one process holds thousands of
subscriptions, and they share one poll of the event outbox).
"""

from pathlib import Path

_rest_config = Path(__file__).resolve().parent / "gunicorn.conf.py"
exec(compile(_rest_config.read_text(encoding="utf-8"), str(_rest_config), "exec"))  # noqa: S102 - our own config

_ws_port = env_int("GRAPHQL_WS_PORT", 8082)  # noqa: F821 - defined by gunicorn.conf.py
bind = _bind_to(_ws_port)  # noqa: F821
wsgi_app = "opsportal.asgi:application"
worker_class = "uvicorn_worker.UvicornWorker"
workers = env_int("WS_CONCURRENCY", 1)  # noqa: F821
threads = 1


def when_ready(server):
    """`dev.py run` starts this server beside the REST one (EXIT_WITH_PARENT_PID=its PID, gunicorn's once it
    execs): stop when that process ends, as the worker does (`run_worker --exit-with-parent PID`). The PID comes
    from the parent, not from `os.getppid()` here, so a start slower than the parent's life still stops."""
    parent = env_int("EXIT_WITH_PARENT_PID", 0)  # noqa: F821 - defined by gunicorn.conf.py
    if parent <= 0:
        return
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:  # noqa: F821
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)  # noqa: F821

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
