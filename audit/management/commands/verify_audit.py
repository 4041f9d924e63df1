"""`manage.py verify_audit [--head FILE]`: verify the audit chain, and prove a saved head is still in it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify, audit_head_verify


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain and its latest checkpoint. With --head FILE (JSON as "
        "GET /api/v1/audit-events/head answered it), prove that this head is still in the chain: signed with "
        "this server's AUDIT_SIGNING_KEY, the event at its seq unchanged, and the chain intact. Prints one line "
        "and exits 0 when it holds, 1 when it does not."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--head", metavar="FILE", help="A head saved earlier ('-' reads standard input).")

    def handle(self, *args, head: str | None = None, **options) -> None:
        if head is None:
            chain = audit_chain_verify()
            ok, message = chain["valid"], chain["message"]
        else:
            ok, message = audit_head_verify(self._read(head))
        if not ok:
            raise CommandError(f"FAIL: {message}", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"OK: {message}"))

    def _read(self, name: str) -> dict:
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text()
            head = json.loads(text)
        except (OSError, ValueError) as error:
            raise CommandError(f"FAIL: cannot read a head from {name}: {error}", returncode=1) from None
        if not isinstance(head, dict):
            raise CommandError(f"FAIL: {name} holds no head (expected a JSON object).", returncode=1)
        return head
