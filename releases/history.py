"""Derived facts about deployments and releases, as pure functions over plain values.

The services record these facts as they write; the data migration that introduced them and
`manage.py check_integrity` derive them from history with the same code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def release_search_text(features: Any) -> str:
    """What release search matches besides name, version and description: the names and
    descriptions of the embedded features and the titles and assignees of their tasks,
    lower-cased, one per line."""
    parts: list[str] = []
    for feature in features if isinstance(features, list) else []:
        if not isinstance(feature, dict):
            continue
        parts += [str(feature.get("name") or ""), str(feature.get("description") or "")]
        for task in feature.get("tasks") or []:
            if isinstance(task, dict):
                parts += [str(task.get("title") or ""), str(task.get("assignee") or "")]
    return "\n".join(part.lower() for part in parts if part)


def replay_current(deployments: Iterable[dict[str, Any]]) -> dict[str, tuple[bool, str | None]]:
    """For data written before deployments recorded it: which deployments of one environment
    became current and what each replaced, replaying them in `sequence` order.

    A succeeded (or later rolled back) deploy becomes current and remembers the one it
    replaced; a rollback becomes current and restores what the replaced deployment had
    replaced (a stack: rolling back twice goes back twice). In-progress and failed
    deployments never became current. Returns `{id: (became_current, previous_id)}`.
    """
    facts: dict[str, tuple[bool, str | None]] = {}
    current: str | None = None
    for deployment in sorted(deployments, key=lambda d: d["sequence"]):
        if deployment["kind"] == "rollback":
            # It restored what the replaced deployment had replaced; so it replaced what that one had.
            restored = facts[current][1] if current in facts else None
            previous = facts[restored][1] if restored in facts else None
        elif deployment["status"] in ("succeeded", "rolled_back"):
            previous = current
        else:
            facts[deployment["id"]] = (False, None)
            continue
        facts[deployment["id"]] = (True, previous)
        current = deployment["id"]
    return facts
