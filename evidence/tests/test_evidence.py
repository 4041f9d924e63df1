"""Release evidence (issue #13): collected when a release reaches production (in the same unit of work) or on
demand, signed with Ed25519, stored unchanged; verified offline, against the audit chain, and by the README's
stand-alone snippet; a tampered file names what changed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from audit.models import AuditEvent
from environments.choices import Tier
from evidence import keys
from evidence.models import ReleaseEvidence
from evidence.services import evidence_verify_chain, evidence_verify_offline
from opsportal import roles
from opsportal.clock import now_ms
from opsportal.testing.factories import client_for, make_environment, make_release, make_team, make_user
from opsportal.testing.faults import InjectedFault, fail_at_write
from releases.models import Deployment
from releases.services import release_approve, release_deploy, release_submit
from tokens.services import api_token_create

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def world():
    make_team(id="shop", members=[{"name": "Erin", "email": "erin@example.com", "username": "erin"}])
    rm = make_user("rita", roles.RELEASE_MANAGERS)
    rm2 = make_user("rob", roles.RELEASE_MANAGERS)
    erin = make_user("erin", roles.ENGINEERS)
    now = now_ms()
    hour = timedelta(hours=1)
    frozen = [{"starts_at": _iso(now - hour), "ends_at": _iso(now + hour), "reason": "Sale"}]
    production = make_environment("production", name="Production", tier=Tier.PRODUCTION, freeze_windows=frozen)
    staging = make_environment("staging", name="Staging", tier=Tier.STAGING)
    release = make_release(team_id="shop", created_by="erin", version="2.4.0")
    release_submit(release=release, actor=erin)
    release_approve(release=release, actor=rm, comment="LGTM")
    release_deploy(release=release, environment=staging, actor=rm)
    return {"rm": rm, "rm2": rm2, "erin": erin, "production": production, "release": release}


def _ship(world):
    production, rm2 = world["production"], world["rm2"]
    return release_deploy(
        release=world["release"], environment=production, actor=rm2, override_freeze=True, reason="Fix"
    )


def test_reaching_production_stores_signed_evidence_of_everything(world):
    deployment = _ship(world)
    stored = ReleaseEvidence.objects.get(release=world["release"])
    assert (stored.trigger, stored.collected_by) == ("production", "rob")
    envelope = json.loads(stored.body)
    assert evidence_verify_offline(envelope, keys.public_key()) == []
    document = envelope["evidence"]
    assert document["evidence_id"] == stored.pk
    assert document["release"]["version"] == "2.4.0" and document["release"]["status"] == "deployed"
    assert [(a["user"], a["decision"], a["comment"]) for a in document["approvals"]] == [("rita", "approved", "LGTM")]
    assert [(d["environment"], d["deployed_by"]) for d in document["deployments"]] == [
        ("staging", "rita"),
        ("production", "rob"),
    ]
    assert [c["result"] for c in document["deploy_checks"]] == ["passed", "passed_with_freeze_override"]
    [override] = document["freeze_overrides"]
    assert (override["deployment"], override["by"], override["reason"]) == (deployment.pk, "rob", "Fix")
    actions = [event["action"] for event in document["audit_events"]]
    assert actions == [
        "release.submitted",
        "release.approved",
        "deployment.created",  # staging
        "deployment.created",  # production, freeze overridden
        "release.deployed",
    ]
    newest = AuditEvent.objects.order_by("-seq").first()
    assert document["audit_head"]["seq"] == newest.seq and newest.action == "release.deployed"
    assert evidence_verify_chain(envelope) == []


def test_a_fault_at_any_write_of_the_production_deploy_leaves_no_evidence(world):
    before = (Deployment.objects.count(), ReleaseEvidence.objects.count(), AuditEvent.objects.count())
    faulted = 0
    for n in range(1, 30):
        with fail_at_write(n) as fault:
            try:
                _ship(world)
            except InjectedFault:
                pass
        if not fault.fired:
            break
        faulted += 1
        assert (Deployment.objects.count(), ReleaseEvidence.objects.count(), AuditEvent.objects.count()) == before
    assert faulted >= 5, "the deploy, the environment, the audit events, the release and the evidence"
    assert ReleaseEvidence.objects.filter(release=world["release"], trigger="production").count() == 1


def test_the_api_serves_stored_live_and_collected_evidence(world):
    _ship(world)
    url = f"/api/v1/releases/{world['release'].pk}/evidence"
    stored = client_for(world["erin"]).get(url)
    assert stored.status_code == 200
    assert stored.json()["evidence"]["trigger"] == "production"
    live = client_for(world["erin"]).get(url, {"live": "true"})
    assert live.json()["evidence"]["evidence_id"] is None and live.json()["evidence"]["collected_by"] == "erin"
    assert evidence_verify_offline(live.json(), keys.public_key()) == []

    refused = client_for(world["erin"]).post(url)
    assert refused.status_code == 403 and refused.json()["code"] == "role_required"
    collected = client_for(world["rm"]).post(url)
    assert collected.status_code == 201
    assert collected.json()["evidence"]["trigger"] == "on_demand"
    assert ReleaseEvidence.objects.filter(release=world["release"]).count() == 2
    event = AuditEvent.objects.get(action="evidence.collected")
    assert event.changes["evidence"] == collected.json()["evidence"]["evidence_id"]
    assert client_for(world["rm"]).get(url).json()["evidence"]["trigger"] == "on_demand", "the latest stored"
    assert client_for(world["rm"]).get("/api/v1/releases/nope/evidence").status_code == 404
    assert client_for(world["rm"]).get(url, {"live": "maybe"}).status_code == 400


def test_a_ci_token_cannot_collect_evidence(world):
    _, secret = api_token_create(actor=world["erin"], name="ci", scopes=["read", "deploy"], teams=["shop"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = f"/api/v1/releases/{world['release'].pk}/evidence"
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 403 and response.json()["code"] == "token_scope"
    assert ReleaseEvidence.objects.count() == 0


def test_the_public_key_endpoint_verifies_the_signature(world):
    _ship(world)
    body = APIClient().get("/api/v1/evidence/public-key").json()
    assert body["algorithm"] == "Ed25519" and body["key_id"] == keys.key_id()
    envelope = json.loads(ReleaseEvidence.objects.get().body)
    assert envelope["signature"]["key_id"] == body["key_id"]
    assert evidence_verify_offline(envelope, load_pem_public_key(body["public_key_pem"].encode())) == []


def _file(tmp_path, text):
    path = tmp_path / "evidence.json"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_one_byte_changed_in_a_stored_evidence_file_is_named(world, tmp_path):
    _ship(world)
    body = ReleaseEvidence.objects.get().body
    good = _file(tmp_path, body)
    call_command("verify_evidence", good)  # verifies, with the audit chain

    at = body.index('"version":"2.4.0"') + len('"version":"2.4.')
    tampered = body[:at] + "1" + body[at + 1 :]
    assert len(tampered.encode()) == len(body.encode()) and tampered.count("2.4.1") == 1
    path = _file(tmp_path, tampered)
    with pytest.raises(CommandError) as offline:
        call_command("verify_evidence", path, "--offline")
    assert "release.version changed" in str(offline.value)
    with pytest.raises(CommandError) as online:
        call_command("verify_evidence", path)
    assert "release.version: '2.4.0' → '2.4.1'" in str(online.value)


def test_a_changed_signature_digest_or_broken_json_is_refused(world, tmp_path):
    _ship(world)
    envelope = json.loads(ReleaseEvidence.objects.get().body)
    path = next(iter(envelope["digests"]))
    envelope["digests"][path] = "0" * 64
    with pytest.raises(CommandError, match="signature does not match the digests"):
        call_command("verify_evidence", _file(tmp_path, json.dumps(envelope)), "--offline")
    with pytest.raises(CommandError, match="not JSON any more"):
        call_command("verify_evidence", _file(tmp_path, ReleaseEvidence.objects.get().body[:-1]), "--offline")


def test_verification_finds_a_cited_audit_event_changed_in_the_chain(world, tmp_path):
    _ship(world)
    envelope = json.loads(ReleaseEvidence.objects.get().body)
    cited = envelope["evidence"]["audit_events"][1]
    AuditEvent.objects.filter(seq=cited["seq"]).update(hash="f" * 64)  # behind the services' back
    problems = evidence_verify_chain(envelope)
    assert f"Audit event #{cited['seq']} ({cited['action']}) changed since the evidence cited it." in problems
    with pytest.raises(CommandError, match=f"Audit event #{cited['seq']}"):
        call_command("verify_evidence", _file(tmp_path, ReleaseEvidence.objects.get().body))


def test_an_evidence_key_from_the_setting_signs_and_a_bad_one_is_refused(world, settings):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from django.core.exceptions import ImproperlyConfigured

    derived = keys.key_id()
    private = Ed25519PrivateKey.generate()
    settings.EVIDENCE_SIGNING_KEY = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    assert keys.key_id() != derived and keys.key_id() == keys.key_id(private.public_key())
    settings.EVIDENCE_SIGNING_KEY = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    assert keys.key_id() == keys.key_id(private.public_key())
    settings.EVIDENCE_SIGNING_KEY = "not a key"
    with pytest.raises(ImproperlyConfigured, match="EVIDENCE_SIGNING_KEY"):
        keys.signing_key()


def _readme_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- evidence-verifier -->\s*```python\n(.*?)```", text, re.S)
    assert match, "README: the stand-alone verifier after <!-- evidence-verifier -->"
    return match.group(1)


def test_the_readme_snippet_verifies_alone_in_15_lines(world, tmp_path):
    snippet = _readme_snippet()
    lines = [line for line in snippet.splitlines() if line.strip()]
    assert len(lines) <= 15, len(lines)
    assert {m.split(".")[0] for m in re.findall(r"^(?:from|import) ([\w.]+)", snippet, re.M)} <= {
        "base64",
        "hashlib",
        "json",
        "sys",
        "cryptography",
    }
    _ship(world)
    script = tmp_path / "verify.py"
    script.write_text(snippet)
    key = tmp_path / "key.pem"
    key.write_text(keys.public_key_pem())
    body = ReleaseEvidence.objects.get().body

    def run(text):
        evidence = _file(tmp_path, text)
        return subprocess.run(  # noqa: S603 - our interpreter, our files
            [sys.executable, "-I", str(script), evidence, str(key)], capture_output=True, text=True, timeout=60
        )

    ok = run(body)
    assert ok.returncode == 0 and "evidence verifies" in ok.stdout, ok.stderr
    at = body.index('"deployed_by":"rob"') + len('"deployed_by":"ro')
    bad = run(body[:at] + "x" + body[at + 1 :])
    assert bad.returncode == 1 and "changed: deployments[1]" in bad.stdout, bad.stdout + bad.stderr
