"""`manage.py load_sample_data_if_empty`: load the sample fixture on a fresh database, never twice."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from releases.models import Release


class Command(BaseCommand):
    help = "Load fixtures/<fixture>.json (default sample_data) when the database holds no releases yet."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--fixture", default="sample_data", help="Fixture name in fixtures/ (default sample_data).")

    def handle(self, *args, fixture: str, **options) -> None:
        if Release.objects.exists():
            self.stdout.write("Sample data: skipped, the database already has releases.")
            return
        path = Path(settings.BASE_DIR) / "fixtures" / f"{fixture}.json"
        if not path.is_file():
            self.stdout.write(self.style.WARNING(f"Sample data: skipped, {path.name} not found in fixtures/."))
            return
        call_command("loaddata", str(path), verbosity=0)
        self.stdout.write(f"Sample data: loaded {path.name} ({Release.objects.count()} releases).")
