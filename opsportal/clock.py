"""Time as the database keeps it."""

from datetime import datetime

from django.utils import timezone


def now_ms() -> datetime:
    """Now, truncated to the millisecond: what MongoDB stores, so a value read back equals the one written."""
    moment = timezone.now()
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
