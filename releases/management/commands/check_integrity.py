"""`manage.py check_integrity [--repair]`: verify the invariants of DESIGN §3 (`releases.integrity`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from releases.integrity import integrity_repair, integrity_violations


class Command(BaseCommand):
    help = (
        "Verify the invariants of releases, deployments, environments and the audit chain, printing each "
        "violation. With --repair, fix what can be derived (one audit event per repair). Exits 1 while any "
        "violation is left."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--repair", action="store_true", help="Fix what can be derived from the deployments.")

    def handle(self, *args, repair: bool = False, **options) -> None:
        if repair:
            repaired, left = integrity_repair()
            for violation in repaired:
                self.stdout.write(f"repaired {violation}")
        else:
            left = integrity_violations()
        for violation in left:
            self.stdout.write(f"{'needs a person' if repair else 'violation'} {violation}")
        if left:
            fixable = sum(1 for v in left if v.repair is not None)
            hint = f" ({fixable} repairable: run with --repair)" if fixable and not repair else ""
            raise CommandError(f"{len(left)} integrity violation(s){hint}.")
        self.stdout.write(self.style.SUCCESS("All invariants hold."))
