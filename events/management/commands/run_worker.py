"""`manage.py run_worker`: the background worker (DESIGN §9) — webhook deliveries and periodic jobs."""

from __future__ import annotations

import argparse
import logging
import os

from django.core.management.base import BaseCommand

from events.worker import Worker

log = logging.getLogger("opsportal.worker")


def _pid(value: str) -> int:
    try:
        pid = int(value)
    except ValueError:
        pid = 0
    if pid <= 0:
        raise argparse.ArgumentTypeError(f"not a process id: {value!r}")
    return pid


def _parent_pid(option: int | None) -> int | None:
    """`--exit-with-parent PID` → PID; bare `--exit-with-parent` (0) → the parent now; absent → None."""
    if option is None:
        return None
    return option or os.getppid()


class Command(BaseCommand):
    help = (
        "Send due webhook deliveries and run due periodic jobs, claiming each with a lease, until SIGTERM. "
        "Run as many as you like, on as many machines as you like."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--concurrency", type=int, default=4, help="Deliveries sent at once (threads). Default 4.")
        parser.add_argument("--poll", type=float, default=1.0, help="Seconds between rounds when idle. Default 1.")
        parser.add_argument(
            "--lease", type=int, default=None, help="Seconds a claim lasts (default OPSPORTAL_WORKER_LEASE_SECONDS)."
        )
        parser.add_argument("--once", action="store_true", help="Send what is due now, run due jobs, and exit.")
        parser.add_argument("--no-jobs", action="store_true", help="Deliveries only; leave periodic jobs to others.")
        parser.add_argument(
            "--exit-with-parent",
            nargs="?",
            type=_pid,
            const=0,
            default=None,
            metavar="PID",
            help=(
                "Stop when the process that started this one ends (dev.py run starts it beside gunicorn). Give that "
                "process's PID (dev.py does): without it, the parent is the one this worker has once Django is up, "
                "which misses a parent that ended during the start."
            ),
        )

    def handle(self, *args, **options) -> None:
        worker = Worker(
            concurrency=options["concurrency"],
            poll_seconds=options["poll"],
            lease_seconds=options["lease"],
            jobs=not options["no_jobs"],
            parent_pid=_parent_pid(options["exit_with_parent"]),
        )
        if options["once"]:
            try:
                sent = worker.run_once()
            finally:
                worker.shutdown()
            self.stdout.write(f"{sent} delivery attempt(s) made.")
            return
        worker.install_signal_handlers()
        worker.run()
