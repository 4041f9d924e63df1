"""The unit of work (issue #9): one transaction, retried as a whole on a transient conflict, joined when nested."""

import pytest
from django.db import DatabaseError
from pymongo.errors import OperationFailure

from opsportal import uow
from opsportal.errors import ValidationFailed
from opsportal.models import IdempotencyRecord
from opsportal.uow import ContendedError, Transient, in_unit, is_transient, run_in_unit, unit_of_work

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch):
    monkeypatch.setattr(uow.time, "sleep", lambda seconds: None)


def _record(key: str) -> None:
    IdempotencyRecord.objects.create(user="u", key=key, request_hash="h", created_at="2026-01-01T00:00:00Z")


def _mongo_error(label: str) -> OperationFailure:
    return OperationFailure("WriteConflict", code=112, details={"errorLabels": [label]})


def test_a_transient_conflict_reruns_the_whole_unit_and_nothing_of_the_lost_attempts_stays():
    attempts = []

    def unit():
        attempts.append(1)
        _record(f"k{len(attempts)}")
        if len(attempts) < 3:
            raise Transient("lost the race")
        return "done"

    assert run_in_unit(unit) == "done"
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k3"]


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(DatabaseError("write conflict"), id="wrapped by the backend"),
        pytest.param(None, id="raw pymongo error of a failed commit"),
    ],
)
def test_mongodb_labelled_errors_are_transient_wrapped_or_raw(error):
    raw = _mongo_error("TransientTransactionError")
    if error is not None:
        error.__cause__ = raw
    assert is_transient(error or raw)
    assert is_transient(_mongo_error("UnknownTransactionCommitResult"))
    assert not is_transient(OperationFailure("bad query", code=2))
    assert not is_transient(DatabaseError("disk I/O error"))


def test_a_raw_transient_pymongo_error_is_retried():
    attempts = []

    def unit():
        attempts.append(1)
        if len(attempts) == 1:
            raise _mongo_error("TransientTransactionError")
        return len(attempts)

    assert run_in_unit(unit) == 2


def test_a_unit_that_keeps_losing_gives_up_with_a_409():
    calls = []

    @unit_of_work
    def always_loses():
        calls.append(1)
        raise Transient("again")

    with pytest.raises(ContendedError) as refused:
        always_loses()
    assert refused.value.status_code == 409 and refused.value.code == "contended"
    assert len(calls) == uow.MAX_ATTEMPTS


def test_other_errors_are_not_retried_and_roll_the_unit_back():
    calls = []

    def unit():
        calls.append(1)
        _record("kept?")
        raise ValidationFailed({"name": ["bad"]})

    with pytest.raises(ValidationFailed):
        run_in_unit(unit)
    assert len(calls) == 1
    assert not IdempotencyRecord.objects.exists()


def test_an_inner_unit_joins_the_outer_one():
    def inner():
        assert in_unit()
        _record("inner")

    def outer():
        run_in_unit(inner)
        raise ValidationFailed({"x": ["no"]})

    assert not in_unit()
    with pytest.raises(ValidationFailed):
        run_in_unit(outer)
    assert not IdempotencyRecord.objects.exists()  # the inner write went with the outer unit
