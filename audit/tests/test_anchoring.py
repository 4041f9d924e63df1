"""An anchored audit trail (issue #10): a keyed hash chain, a signed head, checkpoints that catch a
truncated chain, and the proof that a head an auditor saved is still in the chain."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.models import AuditCheckpoint, AuditEvent, HashScheme
from audit.selectors import audit_chain_verify
from audit.services import audit_checkpoint, audit_record, canonical_event
from opsportal.roles import ENGINEERS
from opsportal.testing.factories import client_for, make_user
from tests.test_settings import run_settings

pytestmark = pytest.mark.django_db


def _events(n: int) -> list[AuditEvent]:
    return [
        audit_record(actor="alice", action="release.updated", object_type="release", object_id=f"r{i}", changes={})
        for i in range(n)
    ]


def _verify(api) -> dict:
    return api.get("/api/v1/audit-events/verify").json()


def _plain(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical_event(event)).encode()).hexdigest()


def _rehash_without_the_key(*, from_seq: int = 1, until_seq: int | None = None, downgrade: bool) -> None:
    """What someone with write access to the database but not AUDIT_SIGNING_KEY can do: recompute every
    hash from `from_seq` on (to `until_seq`) with plain sha256, optionally also marking those events plain."""
    prev = AuditEvent.objects.filter(seq=from_seq - 1).values_list("hash", flat=True).first() or ""
    events = AuditEvent.objects.filter(seq__gte=from_seq).order_by("seq")
    for event in events.filter(seq__lte=until_seq) if until_seq else events:
        if downgrade:
            event.hash_scheme = HashScheme.SHA256
        event.prev_hash, event.hash = prev, _plain(prev, event)
        event.save()
        prev = event.hash


def test_events_are_chained_with_the_signing_key(settings):
    (event,) = _events(1)
    assert event.hash_scheme == HashScheme.HMAC_SHA256
    key = settings.AUDIT_SIGNING_KEY.encode()
    assert event.hash == hmac.new(key, canonical_event(event).encode(), hashlib.sha256).hexdigest()
    assert event.hash != _plain("", event)
    # Verified with another key, the chain does not hold.
    settings.AUDIT_SIGNING_KEY = "some-other-key"
    assert audit_chain_verify()["problem"] == "tampered"


@pytest.mark.parametrize(
    ("downgrade", "first_broken"),
    [(False, 1), (True, 5)],
    ids=["hashes recomputed", "hashes recomputed and events marked plain"],
)
def test_an_edited_event_with_every_hash_recomputed_without_the_key_is_detected(api, downgrade, first_broken):
    """issue #10: editing an event and recomputing every hash after it used to verify."""
    _events(5)
    AuditEvent.objects.filter(seq=3).update(actor="mallory")
    _rehash_without_the_key(downgrade=downgrade)
    body = _verify(api)
    assert body["valid"] is False
    assert body["problem"] == "tampered"
    # Recomputed but still claiming to be keyed: the first recomputed event fails. Marked plain as well:
    # no event is keyed any more, which only a chain rewritten without the key looks like.
    assert body["first_broken"] == first_broken


def test_plain_events_after_keyed_ones_are_detected(api):
    _events(5)
    AuditEvent.objects.filter(seq=4).update(actor="mallory")
    _rehash_without_the_key(from_seq=4, downgrade=True)
    body = _verify(api)
    assert (body["valid"], body["problem"], body["first_broken"]) == (False, "tampered", 4)
    assert "not keyed" in body["message"]


def test_events_hashed_before_the_key_still_verify_once_sealed(api):
    """Events written before issue #10 (plain sha256) keep verifying: the migration appends a keyed
    checkpoint after them; rewriting one of them afterwards is caught at that checkpoint."""
    _events(3)
    _rehash_without_the_key(downgrade=True)  # as they were stored before the key
    assert _verify(api)["problem"] == "tampered"  # unsealed, a plain chain is indistinguishable from a forgery
    migration = __import__("audit.migrations.0003_keyed_hash_chain_and_checkpoints", fromlist=["x"])
    migration.seal_the_unkeyed_events(apps, SimpleNamespace(connection=connection))
    seal = AuditEvent.objects.get(seq=4)
    assert (seal.action, seal.hash_scheme, seal.changes["covers"]["seq"]) == ("audit.checkpoint", "hmac-sha256", 3)
    assert AuditCheckpoint.objects.get().seq == 4
    _events(1)
    body = _verify(api)
    assert (body["valid"], body["events"], body["checkpoint"]["seq"]) == (True, 5, 4)

    # Rewriting an old event and its plain successors breaks the link into the keyed seal.
    AuditEvent.objects.filter(seq=2).update(actor="mallory")
    _rehash_without_the_key(from_seq=2, until_seq=3, downgrade=True)
    body = _verify(api)
    assert (body["problem"], body["first_broken"]) == ("tampered", 4)


def test_deleting_the_newest_events_after_a_checkpoint_is_detected(api):
    """issue #10: deleting the newest events used to leave `verify` saying valid."""
    _events(4)
    checkpoint = audit_checkpoint(actor="cron")
    assert checkpoint.seq == 5
    event = AuditEvent.objects.get(seq=5)
    assert (event.action, event.actor, event.changes["covers"]["seq"]) == ("audit.checkpoint", "cron", 4)
    _events(2)
    assert _verify(api)["valid"] is True

    AuditEvent.objects.filter(seq__gte=4).delete()
    body = _verify(api)
    assert body["valid"] is False
    assert (body["problem"], body["first_broken"], body["events"]) == ("truncated", 4, 3)
    assert body["checkpoint"]["seq"] == 5
    assert "ends at #3, before checkpoint #5" in body["message"]


def test_a_checkpoint_moved_back_or_a_checkpointed_event_replaced_is_detected(api):
    _events(3)
    audit_checkpoint()
    _events(1)
    AuditCheckpoint.objects.update(seq=2)  # pretend the anchor was earlier
    assert _verify(api)["problem"] == "tampered"
    assert "signature" in _verify(api)["message"]


def test_head_is_the_newest_event_signed_with_the_key(api, settings):
    _events(3)
    newest = AuditEvent.objects.get(seq=3)
    response = api.get("/api/v1/audit-events/head")
    assert response.status_code == 200
    head = response.json()
    assert set(head) == {"seq", "hash", "at", "signature"}
    assert (head["seq"], head["hash"]) == (3, newest.hash)
    assert head["at"] == newest.at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    # The documented signature: HMAC-SHA256 over a domain prefix and the head as compact, sorted JSON.
    payload = json.dumps({"seq": 3, "hash": newest.hash, "at": head["at"]}, sort_keys=True, separators=(",", ":"))
    message = f"opsportal.audit.head.v1\n{payload}".encode()
    assert head["signature"] == hmac.new(settings.AUDIT_SIGNING_KEY.encode(), message, hashlib.sha256).hexdigest()


def test_head_of_an_empty_chain_and_who_may_read_it(api, api_client):
    assert {k: v for k, v in api.get("/api/v1/audit-events/head").json().items() if k != "signature"} == {
        "seq": 0,
        "hash": "",
        "at": None,
    }
    engineer = client_for(make_user("eng", ENGINEERS))
    refused = engineer.get("/api/v1/audit-events/head")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied" and "Release Managers" in refused.json()["detail"]
    assert api_client.get("/api/v1/audit-events/head").status_code in (401, 403)


def _save_head(api, tmp_path, name="head.json"):
    path = tmp_path / name
    path.write_text(api.get("/api/v1/audit-events/head").content.decode())
    return path


def _verify_audit(*args) -> str:
    out = io.StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def test_audit_checkpoint_and_verify_audit_head_round_trip(api, tmp_path):
    """The auditor's recipe: save the head, later prove it is still in the chain; after truncation it fails."""
    _events(3)
    out = io.StringIO()
    call_command("audit_checkpoint", stdout=out, stderr=io.StringIO())
    printed = json.loads(out.getvalue())
    assert printed["seq"] == 4 and set(printed) == {"seq", "hash", "at", "signature"}
    saved = _save_head(api, tmp_path)
    assert json.loads(saved.read_text())["seq"] == 4

    _events(2)  # the chain grows: the saved head is still in it
    assert _verify_audit("--head", str(saved)).startswith("OK: Head #4 is in the chain, and the chain verifies (6 ")
    assert _verify_audit().startswith("OK: The chain of 6 events is intact.")

    later = _save_head(api, tmp_path, "later.json")
    AuditEvent.objects.filter(seq__gte=6).delete()  # after the checkpoint: only a saved head can tell
    assert audit_chain_verify()["valid"] is True
    with pytest.raises(CommandError) as failed:
        _verify_audit("--head", str(later))
    assert failed.value.returncode == 1
    assert str(failed.value) == "FAIL: Head #6 is no longer in the chain, which ends at #5: events were deleted."

    AuditEvent.objects.filter(seq__gte=3).delete()  # back past the checkpoint
    with pytest.raises(CommandError, match=r"^FAIL: Head #4 is no longer in the chain, which ends at #2"):
        _verify_audit("--head", str(saved))
    with pytest.raises(CommandError, match=r"FAIL: The chain ends at #2, before checkpoint #4"):
        _verify_audit()


def test_verify_audit_refuses_an_edited_or_foreign_head(api, tmp_path):
    _events(2)
    saved = _save_head(api, tmp_path)
    head = json.loads(saved.read_text())
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**head, "seq": 1}))
    with pytest.raises(CommandError, match="not signed with this server's AUDIT_SIGNING_KEY"):
        _verify_audit("--head", str(forged))
    AuditEvent.objects.filter(seq=2).update(actor="mallory", hash="0" * 64)
    with pytest.raises(CommandError, match="Event #2 is not the one head #2 was saved from"):
        _verify_audit("--head", str(saved))
    (tmp_path / "junk.json").write_text("[1, 2]")
    with pytest.raises(CommandError, match="holds no head"):
        _verify_audit("--head", str(tmp_path / "junk.json"))


def test_production_refuses_a_missing_or_reused_audit_signing_key():
    base = {"DEBUG": "false", "SECRET_KEY": "a-production-secret-key-0123456789"}
    for env in (
        {**base, "AUDIT_SIGNING_KEY": ""},
        {**base, "AUDIT_SIGNING_KEY": "opsportal-development-audit-signing-key-change-me"},
        {**base, "AUDIT_SIGNING_KEY": base["SECRET_KEY"]},
    ):
        result = run_settings(env)
        assert result.returncode != 0, env
        assert "AUDIT_SIGNING_KEY must be set" in result.stderr.strip().splitlines()[-1]
    assert run_settings({**base, "AUDIT_SIGNING_KEY": "an-audit-key-9876543210"}).returncode == 0
    assert run_settings({"DEBUG": "true", "AUDIT_SIGNING_KEY": ""}).returncode == 0
