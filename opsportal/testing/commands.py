"""Test helpers that run the project's own commands in a child process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


def run_python(*args: str, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    """`python <args>` (this interpreter) in the project folder with `env`; output captured as text."""
    return subprocess.run(  # noqa: S603 - this interpreter, our own commands
        [sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
