"""The freeze calendar (issue #12): occurrences of `Freeze` documents, and the one freeze rule. Pure
functions of the freezes they are given (no queries); `environments.selectors` reads the freezes.

A recurring freeze expands its RFC 5545 `rrule` (python-dateutil) on the wall clock of its IANA time
zone: `FREQ=WEEKLY;BYDAY=SA` from Saturday 00:00 Europe/Berlin starts every Saturday at 00:00 Berlin
time, in summer (UTC+2) as in winter (UTC+1). Each occurrence lasts `duration_minutes` on that wall
clock too, so a 48-hour weekend freeze ends Monday 00:00 local even when the clocks change on the
Sunday (the occurrence is then 47 or 49 real hours). A local time that does not exist (in the spring
gap) is taken with the offset before the change, one that exists twice (autumn) is its first instance
(PEP 495 `fold=0`). `exdates` leave out occurrences by their local start (or by date).

Occurrences are half-open `[starts_at, ends_at)`. Overlapping or back-to-back occurrences (of one
freeze or several) block as one: the first moment nothing blocks is `next_open_at`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

# How far ahead `next_open_at` looks, and how many chained occurrences it follows, before giving up.
HORIZON = timedelta(days=3 * 366)
MAX_CHAIN = 1000


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a freeze, in UTC."""

    freeze: str
    name: str
    reason: str
    starts_at: datetime
    ends_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def zone(name: str) -> ZoneInfo | None:
    """The IANA time zone `name`, or None when there is no such zone."""
    if not isinstance(name, str) or not name or "\x00" in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time of `tz` (naive) as an aware UTC datetime (`fold=0`, see the module docstring)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def parse_exdate(value: str, tz: ZoneInfo | Any = UTC) -> datetime | str | None:
    """An exdate as a naive wall-clock time of `tz` (one with an offset is converted), or a `YYYY-MM-DD`
    date string (any occurrence that day)."""
    if not isinstance(value, str):
        return None
    if len(value) == 10:
        try:
            return datetime.strptime(value, "%Y-%m-%d").date().isoformat()  # noqa: DTZ007 - a local date
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is None else moment.astimezone(tz).replace(tzinfo=None)


def rrule_error(rule: str, starts_at: datetime) -> str | None:
    """Why `rule` is not an RRULE this calendar can expand (None when it is)."""
    if not rule:
        return None
    if any(part in rule.upper() for part in ("DTSTART", "\n", "RDATE", "EXRULE")):
        return "give the rule only (e.g. FREQ=WEEKLY;BYDAY=SA): starts_at, exdates and timezone say the rest."
    try:
        rrulestr(rule, dtstart=starts_at.replace(tzinfo=None))
    except (ValueError, TypeError, KeyError, IndexError) as error:
        return f"not an RFC 5545 RRULE ({error})."
    return None


def applies(freeze: Any, *, environment: str, tier: str, team: str | None = None) -> bool:
    """Whether `freeze` blocks releases of `team` (None: any release) on `environment` of `tier`."""
    environments, tiers = freeze.environments or [], freeze.tiers or []
    if (environments or tiers) and environment not in environments and tier not in tiers:
        return False
    teams = freeze.teams or []
    return not teams or team is None or team in teams


def occurrences(freeze: Any, start: datetime, end: datetime) -> list[Occurrence]:
    """The occurrences of `freeze` that overlap `[start, end)`, in order."""

    def occurrence(starts: datetime, ends: datetime) -> Occurrence:
        return Occurrence(freeze.pk, freeze.name, freeze.reason or "", starts, ends)

    if not freeze.rrule:
        if freeze.ends_at is None or not (freeze.starts_at < end and freeze.ends_at > start):
            return []
        return [occurrence(freeze.starts_at, freeze.ends_at)]
    tz = zone(freeze.timezone) or UTC
    duration = timedelta(minutes=freeze.duration_minutes or 0)
    if duration <= timedelta(0):
        return []
    local_start = freeze.starts_at.astimezone(tz).replace(tzinfo=None)
    rule = rrulestr(freeze.rrule, dtstart=local_start)
    # Local bounds, widened by a day for offsets and by the duration for occurrences already under way.
    window_from = start.astimezone(tz).replace(tzinfo=None) - duration - timedelta(days=1)
    window_to = end.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    excluded = {parse_exdate(value, tz) for value in freeze.exdates or []} - {None}
    found = []
    for local in rule.between(window_from, window_to, inc=True):
        if local in excluded or local.date().isoformat() in excluded:
            continue
        starts, ends = to_utc(local, tz), to_utc(local + duration, tz)
        if starts < end and ends > start:
            found.append(occurrence(starts, ends))
    return found


def covering(freezes: Iterable[Any], at: datetime) -> list[Occurrence]:
    """The occurrences in force at `at` (`starts_at <= at < ends_at`)."""
    moment_after = at + timedelta(milliseconds=1)
    return [o for freeze in freezes for o in occurrences(freeze, at, moment_after) if o.starts_at <= at < o.ends_at]


def next_open_at(freezes: list[Any], at: datetime) -> datetime | None:
    """The first moment from `at` on when none of `freezes` is in force (`at` itself when none is now);
    None when they chain beyond `HORIZON` (e.g. a freeze that never ends)."""
    moment = at
    for _ in range(MAX_CHAIN):
        active = covering(freezes, moment)
        if not active:
            return moment
        if moment - at > HORIZON:
            return None
        moment = max(o.ends_at for o in active)
    return None
