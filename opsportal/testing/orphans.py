"""What `dev.py run` starts beside gunicorn (the worker, the ASGI server) must end when gunicorn does, however
long it takes to start: these run one of dev.py's `start_*` functions in a parent process that then ends, as
gunicorn would, and wait for the orphan to stop (tests of `--exit-with-parent` / `EXIT_WITH_PARENT_PID`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opsportal.testing.live_gunicorn import ROOT


def start_from_dev_py(start: str, env: dict[str, str], log: Path, parent_lives: float) -> int:
    """`dev.<start>(python, env)` in a parent that ends `parent_lives` seconds later (its output to `log`); the PID
    of the process it started."""
    pid_file = log.with_suffix(".pid")
    script = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "import dev\n"
        f"child = dev.{start}(Path(sys.executable), dict(os.environ))\n"
        f"Path({str(pid_file)!r}).write_text(str(child.pid))\n"
        f"time.sleep({parent_lives})\n"
    )
    with log.open("ab") as sink:
        command = [sys.executable, "-c", script]
        subprocess.run(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, timeout=60, check=True)  # noqa: S603
    return int(pid_file.read_text())


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # reaped by init once it exits; a zombie counts as gone
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] == "Z"


def wait_gone(pid: int, timeout: float, what: str) -> None:
    """Until `pid` has ended (its start-up included in `timeout`); killed (and the test failed) otherwise."""
    deadline = time.monotonic() + timeout
    while not gone(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"timed out waiting for {what} to stop")
        time.sleep(0.1)
