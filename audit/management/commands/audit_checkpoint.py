"""`manage.py audit_checkpoint`: anchor the audit chain (`audit.services.audit_checkpoint`)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from audit.services import audit_checkpoint, signed_head


class Command(BaseCommand):
    help = (
        "Append a signed checkpoint to the audit trail: an audit.checkpoint event naming the head it covers, "
        "and the new head, signed with AUDIT_SIGNING_KEY, kept apart from the events. From then on, verify "
        "reports the chain truncated if its newest events are deleted back past the checkpoint. Run it "
        "regularly (e.g. from cron). Prints the signed head, which an auditor may keep."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--actor", default="", help="Who to record as the actor (default: nobody, a system job).")

    def handle(self, *args, actor: str = "", **options) -> None:
        checkpoint = audit_checkpoint(actor=actor)
        self.stderr.write(f"Checkpoint at #{checkpoint.seq}.")
        self.stdout.write(json.dumps(signed_head(checkpoint)))
