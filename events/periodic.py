"""The registry of the worker's periodic jobs (DESIGN §9).

An app declares its jobs in a `jobs.py` module, found when the worker starts:

    from events.periodic import periodic_job

    @periodic_job("events.prune_deliveries", every=timedelta(hours=1))
    def prune_deliveries() -> dict:
        return deliveries_prune()          # what it returns is kept as the run's result

`manage.py run_worker` claims each due job with the same lease as deliveries (`events.services.jobs`),
so a job runs once per interval however many workers run. A job is a function of no arguments that
does its writes through services (units of work); an exception is recorded as the run's error and the
job runs again at its next interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class PeriodicJobSpec:
    name: str
    every: timedelta
    run: Callable[[], dict[str, Any] | None]
    description: str = ""


_REGISTRY: dict[str, PeriodicJobSpec] = {}
_discovered = False


def periodic_job(name: str, *, every: timedelta) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register the decorated function as the periodic job `name`, due every `every`."""
    if every <= timedelta(0):
        raise ValueError("A periodic job's interval must be positive.")

    def register(function: Callable[[], Any]) -> Callable[[], Any]:
        doc = (function.__doc__ or "").strip().split("\n\n")[0]
        _REGISTRY[name] = PeriodicJobSpec(name=name, every=every, run=function, description=" ".join(doc.split()))
        return function

    return register


def registered_jobs() -> list[PeriodicJobSpec]:
    """Every registered job, by name (the apps' `jobs` modules are imported the first time)."""
    global _discovered
    if not _discovered:
        autodiscover_modules("jobs")
        _discovered = True
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]
