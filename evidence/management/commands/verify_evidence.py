"""`manage.py verify_evidence FILE`: check a release's evidence file (issue #13)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.core.management.base import BaseCommand, CommandError

from evidence import keys
from evidence.services import evidence_stored_differences, evidence_verify_chain, evidence_verify_offline


class Command(BaseCommand):
    help = (
        "Verify a release evidence file (as GET /api/v1/releases/{id}/evidence answered it): its Ed25519 "
        "signature and the digest of every part, naming each part that changed; then, unless --offline, that "
        "every audit event it cites is still in the audit chain, and how it differs from the stored copy. "
        "Exit status 1 on any problem."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="The evidence file (JSON).")
        parser.add_argument(
            "--public-key", help="PEM file of the public key (default: this server's, GET /api/v1/evidence/public-key)."
        )
        parser.add_argument("--offline", action="store_true", help="Check the signature only; no database access.")

    def _public_key(self, path: str | None) -> Ed25519PublicKey:
        if not path:
            return keys.public_key()
        key = load_pem_public_key(Path(path).read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise CommandError(f"{path} is not an Ed25519 public key.")
        return key

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            envelope = json.loads(Path(options["file"]).read_text(encoding="utf-8"))
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error.strerror}.") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise CommandError(f"{options['file']} is not JSON any more: {error}.") from None
        problems = evidence_verify_offline(envelope, self._public_key(options["public_key"]))
        if not options["offline"] and isinstance(envelope, dict):
            differences = evidence_stored_differences(envelope)
            problems += [f"Differs from the stored evidence: {line}" for line in differences]
            if not problems:
                problems += evidence_verify_chain(envelope)
        if problems:
            raise CommandError("Evidence does NOT verify:\n  " + "\n  ".join(problems))
        document = envelope["evidence"]
        release = document.get("release", {})
        where = "signature and digests" if options["offline"] else "signature, digests and audit chain"
        self.stdout.write(
            f"Evidence of {release.get('name')} {release.get('version')} verifies ({where}; key "
            f"{envelope['signature'].get('key_id')}, {len(document.get('audit_events', []))} audit events cited)."
        )
