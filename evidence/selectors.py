"""Reads of stored release evidence."""

from __future__ import annotations

import json
from typing import Any

from evidence.models import ReleaseEvidence
from releases.models import Release


def evidence_latest(*, release: Release) -> dict[str, Any] | None:
    """The envelope of the release's most recently stored evidence, or None when none was stored."""
    body = (
        ReleaseEvidence.objects.filter(release_id=release.pk)
        .order_by("-collected_at", "-id")
        .values_list("body", flat=True)
        .first()
    )
    return json.loads(body) if body is not None else None
