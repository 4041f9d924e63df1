"""`manage.py load_sample_data_if_empty`: load the sample fixture into a fresh database, never twice."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from opsportal.sample_data import sample_data_shift_to_now
from releases.models import Release


class Command(BaseCommand):
    help = (
        "Load the sample data (fixtures/sample_data.json) when the database holds no releases yet; "
        "do nothing otherwise, so it is safe on every start."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--fixture",
            default="sample_data",
            help="A fixture name in fixtures/ (default sample_data) or a path to a .json fixture.",
        )
        parser.add_argument(
            "--keep-dates",
            action="store_true",
            help="Keep the fixture's fixed timestamps instead of moving them so the newest deployment is recent.",
        )

    def handle(self, *args, fixture: str, keep_dates: bool = False, **options) -> None:
        if Release.objects.exists():
            self.stdout.write("Sample data: skipped, the database already has releases.")
            return
        if fixture.endswith(".json") or "/" in fixture:
            path = Path(fixture)
        else:
            path = Path(settings.BASE_DIR) / "fixtures" / f"{fixture}.json"
        if not path.is_file():
            self.stdout.write(self.style.WARNING(f"Sample data: skipped, {path} not found."))
            return
        call_command("loaddata", str(path), verbosity=0)
        self.stdout.write(f"Sample data: loaded {path.name} ({Release.objects.count()} releases).")
        if not keep_dates:
            delta = sample_data_shift_to_now()
            self.stdout.write(f"Sample data: timestamps moved by {delta.days} days so the dashboard shows recent work.")
