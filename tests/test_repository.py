"""Rules for the repository itself (checked before a change is handed over)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_TRACKED_FILE_BYTES = 2 * 1024 * 1024  # 2 MiB: a larger asset is committed compressed (e.g. GraphiQL's script)


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout (the Docker image has neither)")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_tracked_file_is_over_2_mib():
    files = tracked_files()
    assert len(files) > 100
    too_large = {str(path.relative_to(ROOT)): path.stat().st_size for path in files if path.is_file()}
    too_large = {name: size for name, size in too_large.items() if size > MAX_TRACKED_FILE_BYTES}
    assert too_large == {}
