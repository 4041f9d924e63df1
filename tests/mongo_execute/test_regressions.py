"""What the MongoDB execute mode found in the application, each fixed and guarded here. These run
in every leg: on SQLite, and with `OPSPORTAL_MONGO_EXECUTE=1` on the MongoDB emulator (issue #17)."""

from __future__ import annotations

import pytest
from django.db import transaction

from opsportal.testing.factories import client_for, make_release, make_team
from opsportal.uow import on_commit, run_in_unit
from teams.models import Team


@pytest.mark.django_db(transaction=True)
def test_a_unit_inside_djangos_atomic_block_commits_and_runs_its_hooks():
    # issue #17: on MongoDB, Django's atomic() (the admin's change views, user.groups.set()) is no
    # transaction but marks the connection, and the backend's commit refused to run inside it.
    ran = []

    def unit() -> None:
        Team.objects.create(id="inside", name="Inside")
        on_commit(lambda: ran.append("committed"))

    with transaction.atomic():
        run_in_unit(unit)
    assert Team.objects.filter(pk="inside").exists()
    assert ran == ["committed"]


@pytest.mark.django_db(transaction=True)
def test_a_failed_unit_inside_djangos_atomic_block_runs_no_hooks():
    ran = []

    def unit() -> None:
        on_commit(lambda: ran.append("committed"))
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"), transaction.atomic():
        run_in_unit(unit)
    assert ran == []


@pytest.mark.django_db
def test_ordering_ties_are_broken_by_the_primary_key(superuser):
    # issue #17: `?ordering=target_date` left releases with the same (or no) date in whatever order
    # the database chose (SQLite: rowid; MongoDB: index or natural order), so pages differed.
    team = make_team()
    for pk in ("r-c", "r-a", "r-b"):
        make_release(id=pk, team=team, target_date=None)
    make_release(id="r-0", team=team, target_date="2026-12-01")
    api = client_for(superuser)

    def ids(ordering: str) -> list[str]:
        return [item["id"] for item in api.get(f"/api/v1/releases?ordering={ordering}").json()["results"]]

    assert ids("target_date") == ["r-a", "r-b", "r-c", "r-0"]
    assert ids("-target_date") == ["r-0", "r-a", "r-b", "r-c"]
