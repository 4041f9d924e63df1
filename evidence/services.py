"""Release evidence (issue #13): collect, sign with Ed25519, store once; verify offline and against the chain.

The envelope (`format` `opsportal.evidence.v1`):

    {"format": "opsportal.evidence.v1",
     "evidence": {…the document…},
     "digests": {"release.version": "<sha256 hex>", "deployments[0]": "…", …},
     "signature": {"algorithm": "Ed25519", "key_id": "…", "value": "<base64>"}}

`digests` holds the sha256 of the canonical JSON (keys sorted, no spaces, UTF-8) of every part of the
document: each field of an object section (`release.version`), each item of a list section
(`deployments[2]`), each scalar section. The signature covers the canonical JSON of `digests`. So a
verifier checks the signature, recomputes the digests of what it was given and names every part that
differs, and needs nothing but `cryptography` (see `evidence_verify_offline` and the README snippet).

The document: the release as it is when collected (with its features and approvals), each approval (an
`_approval_entry`, where policy digests go once approval policies land), every deploy check that let a
deployment through and every deployment with who and when, the freeze overrides, the incidents linked to
the release, every audit event it cites (`{seq, hash, action, …}`) and the signed head of the audit chain
at the time of collection.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.actions import AuditAction
from audit.models import AuditEvent
from audit.selectors import audit_head, audit_head_verify
from audit.services import audit_record, iso_ms
from evidence import keys
from evidence.models import EvidenceTrigger, ReleaseEvidence
from opsportal import roles
from opsportal.clock import now_ms
from opsportal.ids import new_id
from opsportal.uow import unit_of_work
from releases.models import Deployment, Release

FORMAT = "opsportal.evidence.v1"


def canonical(value: Any) -> bytes:
    """The bytes digests and signatures cover: JSON, keys sorted, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def document_digests(document: dict[str, Any]) -> dict[str, str]:
    """sha256 of every part of `document` (module docstring), by path."""
    parts: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            parts.update({f"{key}.{sub}": item for sub, item in value.items()})
        elif isinstance(value, list):
            parts.update({f"{key}[{index}]": item for index, item in enumerate(value)})
        else:
            parts[key] = value
    return {path: hashlib.sha256(canonical(value)).hexdigest() for path, value in parts.items()}


# --------------------------------------------------------------------------- collection


def _approval_entry(approval: dict[str, Any]) -> dict[str, Any]:
    """One approval as evidence. Approval policies (issue #12) will add the digest of what was approved here."""
    return {
        "user": approval.get("user", ""),
        "decision": approval.get("decision", ""),
        "comment": approval.get("comment", ""),
        "at": approval.get("at"),
    }


def _audit_entry(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "hash": event.hash,
        "at": iso_ms(event.at),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
    }


def _release_entry(release: Release) -> dict[str, Any]:
    return {
        "id": release.pk,
        "name": release.name,
        "version": release.version,
        "description": release.description,
        "status": release.status,
        "team": release.team_id,
        "workflow": release.workflow_id,
        "created_by": release.created_by,
        "created_at": iso_ms(release.created_at),
        "updated_at": iso_ms(release.updated_at),
        "revision": release.revision,
        "features": release.features,
    }


def evidence_document(*, release: Release, collected_by: str, trigger: str, evidence_id: str | None) -> dict:
    """The evidence document of `release`, as the database says now (module docstring)."""
    from incidents.models import Incident

    deployments = list(Deployment.objects.filter(release_id=release.pk).order_by("started_at", "id"))
    deployment_ids = [deployment.pk for deployment in deployments]
    incidents = list(Incident.objects.filter(release_id=release.pk).order_by("started_at", "id"))
    events = list(AuditEvent.objects.filter(object_type="release", object_id=release.pk).order_by("seq")) + list(
        AuditEvent.objects.filter(object_type="deployment", object_id__in=deployment_ids).order_by("seq")
    )
    if incidents:
        events += list(
            AuditEvent.objects.filter(object_type="incident", object_id__in=[i.pk for i in incidents]).order_by("seq")
        )
    events.sort(key=lambda event: event.seq)
    by_deployment: dict[str, list[AuditEvent]] = {}
    for event in events:
        if event.object_type == "deployment":
            by_deployment.setdefault(event.object_id, []).append(event)

    checks, overrides = [], []
    for deployment in deployments:
        created = next(
            (e for e in by_deployment.get(deployment.pk, []) if e.action == AuditAction.DEPLOYMENT_CREATED), None
        )
        if created is None:
            continue
        override = (created.changes or {}).get("freeze_overridden")
        checks.append(
            {
                "deployment": deployment.pk,
                "environment": deployment.environment_id,
                "at": iso_ms(created.at),
                "by": created.actor,
                "result": "passed_with_freeze_override" if override else "passed",
                "audit_seq": created.seq,
            }
        )
        if override:
            overrides.append(
                {
                    "deployment": deployment.pk,
                    "environment": deployment.environment_id,
                    "by": created.actor,
                    "at": iso_ms(created.at),
                    "reason": override.get("reason", ""),
                    "frozen_until": override.get("until"),
                    "audit_seq": created.seq,
                }
            )
    return {
        "evidence_id": evidence_id,
        "collected_at": iso_ms(now_ms()),
        "collected_by": collected_by,
        "trigger": trigger,
        "release": _release_entry(release),
        "approvals": [_approval_entry(approval) for approval in release.approvals or []],
        "deploy_checks": checks,
        "deployments": [
            {
                "id": deployment.pk,
                "environment": deployment.environment_id,
                "kind": deployment.kind,
                "status": deployment.status,
                "sequence": deployment.sequence,
                "started_at": iso_ms(deployment.started_at),
                "finished_at": iso_ms(deployment.finished_at),
                "deployed_by": deployment.deployed_by,
                "pipeline_url": deployment.pipeline_url,
                "notes": deployment.notes,
                "rolled_back_from": deployment.rolled_back_from_id,
            }
            for deployment in deployments
        ],
        "freeze_overrides": overrides,
        "incidents": [
            {
                "id": incident.pk,
                "title": incident.title,
                "severity": incident.severity,
                "status": incident.status,
                "environment": incident.environment_id,
                "deployment": incident.deployment_id,
                "started_at": iso_ms(incident.started_at),
                "resolved_at": iso_ms(incident.resolved_at),
                "external_id": incident.external_id,
                "url": incident.url,
            }
            for incident in incidents
        ],
        "audit_events": [_audit_entry(event) for event in events],
        "audit_head": audit_head(),
    }


def evidence_envelope(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with its digests, signed."""
    digests = document_digests(document)
    return {
        "format": FORMAT,
        "evidence": document,
        "digests": digests,
        "signature": {"algorithm": "Ed25519", "key_id": keys.key_id(), "value": keys.sign(canonical(digests))},
    }


def _username(actor: Any) -> str:
    return actor.get_username() if actor is not None and hasattr(actor, "get_username") else str(actor or "")


def evidence_live(*, release: Release, actor: Any) -> dict[str, Any]:
    """The release's evidence as of now, signed but not stored (what `GET …/evidence?live=true` answers)."""
    document = evidence_document(
        release=release, collected_by=_username(actor), trigger=EvidenceTrigger.ON_DEMAND, evidence_id=None
    )
    return evidence_envelope(document)


def _store(*, release: Release, actor: Any, trigger: str) -> ReleaseEvidence:
    evidence_id = new_id()
    document = evidence_document(
        release=release, collected_by=_username(actor), trigger=trigger, evidence_id=evidence_id
    )
    body = canonical(evidence_envelope(document)).decode()
    return ReleaseEvidence.objects.create(
        id=evidence_id,
        release_id=release.pk,
        trigger=trigger,
        collected_at=now_ms(),
        collected_by=_username(actor),
        key_id=keys.key_id(),
        sha256=hashlib.sha256(body.encode()).hexdigest(),
        body=body,
    )


def evidence_on_production(*, release: Release, actor: Any) -> ReleaseEvidence:
    """Inside the unit of work that made `release` reach production (`releases.services.deployments`):
    collect and store its evidence, so it commits with the deployment or not at all. That unit's audit
    event (`release.deployed`) is its record."""
    return _store(release=release, actor=actor, trigger=EvidenceTrigger.PRODUCTION)


@unit_of_work
def evidence_collect(*, release: Release, actor: Any) -> ReleaseEvidence:
    """Collect, sign and store the release's evidence now (Release Managers; one unit of work, audited
    `evidence.collected`)."""
    roles.require_release_manager(actor, what="collect release evidence")
    release = Release.objects.get(pk=release.pk)
    stored = _store(release=release, actor=actor, trigger=EvidenceTrigger.ON_DEMAND)
    audit_record(
        actor=_username(actor),
        action=AuditAction.EVIDENCE_COLLECTED,
        object_type="release",
        object_id=release.pk,
        changes={"evidence": stored.pk, "sha256": stored.sha256, "key_id": stored.key_id},
    )
    return stored


# --------------------------------------------------------------------------- verification


def evidence_verify_offline(envelope: Any, public_key: Ed25519PublicKey) -> list[str]:
    """What is wrong with `envelope` (a parsed evidence file) given the public key; empty when it verifies.
    Each problem names the part that changed."""
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        return [f"Not an evidence file: expected an object with format '{FORMAT}'."]
    digests, document, signature = envelope.get("digests"), envelope.get("evidence"), envelope.get("signature")
    if not isinstance(digests, dict) or not isinstance(document, dict) or not isinstance(signature, dict):
        return ["Not an evidence file: 'evidence', 'digests' and 'signature' must be objects."]
    try:
        public_key.verify(base64.b64decode(str(signature.get("value", ""))), canonical(digests))
    except (InvalidSignature, ValueError):
        return [
            f"The signature does not match the digests (key {signature.get('key_id')!r}): the digests or the "
            "signature changed, or another key signed it."
        ]
    actual = document_digests(document)
    problems = [
        f"{path} changed (its sha256 is not the signed one)."
        for path in digests
        if path in actual and actual[path] != digests[path]
    ]
    problems += [f"{path} was removed." for path in digests if path not in actual]
    problems += [f"{path} was added (not signed)." for path in actual if path not in digests]
    return problems


def evidence_verify_chain(envelope: dict[str, Any]) -> list[str]:
    """With database access: every audit event the evidence cites is still in the chain, unchanged, and so
    is its audit head (and the chain verifies). Empty when all is well."""
    document = envelope.get("evidence") or {}
    cited = [entry for entry in document.get("audit_events") or [] if isinstance(entry, dict)]
    stored = dict(AuditEvent.objects.filter(seq__in=[entry.get("seq") for entry in cited]).values_list("seq", "hash"))
    problems = []
    for entry in cited:
        seq = entry.get("seq")
        if seq not in stored:
            problems.append(f"Audit event #{seq} ({entry.get('action')}) is no longer in the audit chain.")
        elif stored[seq] != entry.get("hash"):
            problems.append(f"Audit event #{seq} ({entry.get('action')}) changed since the evidence cited it.")
    head = document.get("audit_head")
    ok, message = audit_head_verify(head if isinstance(head, dict) else {})
    if not ok:
        problems.append(f"Audit head: {message}")
    return problems


def evidence_stored_differences(envelope: dict[str, Any]) -> list[str]:
    """With database access: the fields of the file's document that differ from the stored evidence of the
    same id (`path: stored → file`); empty when it matches or was never stored."""
    document = envelope.get("evidence") or {}
    stored = ReleaseEvidence.objects.filter(pk=document.get("evidence_id") or "").values_list("body", flat=True).first()
    if stored is None:
        return []
    return [f"{path}: {old!r} → {new!r}" for path, old, new in _differences(json.loads(stored)["evidence"], document)]


def _differences(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new), key=str):
            found += _differences(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            item
            for index, pair in enumerate(zip(old, new, strict=True))
            for item in _differences(*pair, f"{path}[{index}]")
        ]
    return [] if old == new else [(path, old, new)]
