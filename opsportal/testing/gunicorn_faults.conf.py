"""gunicorn settings for the crash tests: the project's `gunicorn.conf.py`, plus the pause seam of
`opsportal.testing.faults` in every worker (never used outside tests)."""

import runpy
from pathlib import Path

globals().update(
    {
        key: value
        for key, value in runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py")).items()
        if not key.startswith("__")
    }
)


def post_fork(server, worker):
    from opsportal.testing.faults import install_pause_seam

    install_pause_seam()
