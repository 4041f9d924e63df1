"""A real Redis server for the tests that need one (issue #18): Debian's `redis-server` on a free
loopback port, without persistence, for the whole session. `.ci/run` installs it when missing."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

from opsportal.testing.live_gunicorn import free_port

MISSING = "needs Debian's redis-server (apt-get install redis-server; .ci/run installs it)"


def start_redis() -> tuple[subprocess.Popen, str]:
    """Start redis-server on a free loopback port; returns the process and its `redis://` URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError(MISSING)
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="opsportal-redis-")
    process = subprocess.Popen(  # noqa: S603 - our own fixed command line
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"redis-server did not start on port {port}") from None
            time.sleep(0.05)
    return process, f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a real Redis server, running for the session."""
    try:
        process, url = start_redis()
    except FileNotFoundError:
        pytest.skip(MISSING)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
