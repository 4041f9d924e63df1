"""The one background process (DESIGN §9): `manage.py run_worker`.

Each round it claims as many due deliveries as it has free threads (`deliveries_claim`, a conditional
update and a lease each), sends them on its thread pool (`delivery_attempt`), and every few seconds
claims and runs the periodic jobs that are due (`events.periodic`). Nothing is held in memory that the
database does not also know: any number of workers on any number of machines can run side by side,
and the claims of one that dies run out after `OPSPORTAL_WORKER_LEASE_SECONDS`.

SIGTERM (or Ctrl+C) stops it cleanly: no new claims; what is being sent is finished and recorded
(at most the webhook timeout), then it exits 0. A second signal exits at once (its claims run out).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connections

from events.periodic import PeriodicJobSpec, registered_jobs
from events.services import deliveries_claim, delivery_attempt, periodic_job_claim, periodic_job_finish
from opsportal.ids import new_id

log = logging.getLogger("opsportal.worker")

JOB_CHECK_SECONDS = 5.0


def worker_name() -> str:
    """`host:pid:random`, what claims and delivery attempts name."""
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"


def _reset_connections() -> None:
    """After an error: drop this thread's connections (reopened on next use). Not after every round:
    a worker keeps its connections (on MongoDB each is a client with its own pool)."""
    connections.close_all()


class Worker:
    def __init__(
        self,
        *,
        concurrency: int = 4,
        poll_seconds: float = 1.0,
        lease_seconds: int | None = None,
        jobs: bool = True,
        parent_pid: int | None = None,
        name: str | None = None,
        inline: bool = False,
    ) -> None:
        """`parent_pid`: stop once that process is no longer this one's parent (it ended; `--exit-with-parent`).
        `inline`: send on the calling thread instead of a pool (tests inside one transaction)."""
        self.name = name or worker_name()
        self.concurrency = max(1, concurrency)
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.jobs = registered_jobs() if jobs else []
        self.stopping = threading.Event()
        self._parent = parent_pid
        self._pool = None if inline else ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="delivery")
        self._inflight: set[Future] = set()
        self._jobs_checked = 0.0
        self._signals = 0
        self.sent = 0

    # --- signals

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._signals += 1
        if self._signals > 1:
            log.warning("worker: second signal, exiting now", extra={"worker": self.name})
            os._exit(1)
        log.info(
            "worker: stopping (finishing what is being sent)",
            extra={"worker": self.name, "signal": signal.Signals(signum).name},
        )
        self.stopping.set()

    # --- the loop

    def run(self) -> None:
        """Until stopped: claim and send, run due jobs, wait a little."""
        log.info(
            "worker started",
            extra={"worker": self.name, "concurrency": self.concurrency, "jobs": [job.name for job in self.jobs]},
        )
        try:
            while not self.stopping.is_set():
                if self._parent is not None and os.getppid() != self._parent:
                    log.info("worker: parent process gone, stopping", extra={"worker": self.name})
                    break
                claimed = self.tick()
                self.stopping.wait(0.05 if claimed else self.poll_seconds)
        finally:
            self.shutdown()
            connections.close_all()

    def tick(self) -> int:
        """One round: claim into the free threads, and the due jobs every few seconds. Returns the claims."""
        self._inflight = {future for future in self._inflight if not future.done()}
        claimed = 0
        free = self.concurrency - len(self._inflight)
        if free > 0:
            try:
                deliveries = deliveries_claim(worker=self.name, limit=free, lease_seconds=self.lease_seconds)
            except Exception:
                log.exception("worker: claiming deliveries failed", extra={"worker": self.name})
                _reset_connections()  # a broken connection is reopened on next use
                deliveries = []
            for delivery in deliveries:
                self._inflight.add(self._submit(self._send, delivery))
            claimed = len(deliveries)
        if self.jobs and time.monotonic() - self._jobs_checked >= JOB_CHECK_SECONDS:
            self._jobs_checked = time.monotonic()
            self.run_due_jobs()
        return claimed

    def run_once(self) -> int:
        """Claim and send everything due now, run the due jobs, and wait for it all (tests, `--once`)."""
        sent = 0
        while True:
            self._jobs_checked = 0.0
            claimed = self.tick()
            self.wait()
            sent += claimed
            if not claimed:
                return sent

    def wait(self) -> None:
        for future in list(self._inflight):
            future.result()
        self._inflight.clear()

    def _submit(self, function: Any, *args: Any) -> Future:
        if self._pool is not None:
            return self._pool.submit(function, *args)
        future: Future = Future()
        function(*args)
        future.set_result(None)
        return future

    def shutdown(self) -> None:
        """Wait for what is being sent, then stop the threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        log.info("worker stopped", extra={"worker": self.name, "sent": self.sent})

    # --- work on the pool's threads

    def _send(self, delivery: Any) -> None:
        try:
            if delivery_attempt(delivery=delivery, worker=self.name) is not None:
                self.sent += 1
        except Exception:
            log.exception("worker: delivery failed", extra={"worker": self.name, "delivery": delivery.pk})
            _reset_connections()

    def run_due_jobs(self) -> None:
        for spec in self.jobs:
            if self.stopping.is_set():
                return
            try:
                job = periodic_job_claim(name=spec.name, worker=self.name, lease_seconds=self.lease_seconds)
            except Exception:
                log.exception("worker: claiming a job failed", extra={"worker": self.name, "job": spec.name})
                _reset_connections()
                continue
            if job is not None:
                self._inflight.add(self._submit(self._run_job, spec, job))

    def _run_job(self, spec: PeriodicJobSpec, job: Any) -> None:
        error, result = "", None
        started = time.monotonic()
        try:
            result = spec.run() or {}
        except Exception as exc:
            log.exception("worker: job failed", extra={"worker": self.name, "job": spec.name})
            error = f"{type(exc).__name__}: {exc}"
        try:
            periodic_job_finish(job=job, every=spec.every, error=error, result=result)
            log.info(
                "periodic job",
                extra={
                    "worker": self.name,
                    "job": spec.name,
                    "outcome": "error" if error else "ok",
                    "result": result,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
        except Exception:
            log.exception("worker: recording a job run failed", extra={"worker": self.name, "job": spec.name})
            _reset_connections()
