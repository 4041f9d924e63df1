"""`manage.py demo_setup`: with OPSPORTAL_DEMO on, make a fresh installation usable at once (issue #11).

docker-compose.yml runs it after `migrate`: the sample data goes into an empty database
(`load_sample_data_if_empty`) and a first superuser is created from OPSPORTAL_DEMO_USER /
OPSPORTAL_DEMO_PASSWORD (`ensure_demo_admin`). With OPSPORTAL_DEMO off (production) it does nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "When OPSPORTAL_DEMO is on: load the sample data into an empty database and ensure the first admin "
        "(OPSPORTAL_DEMO_USER / OPSPORTAL_DEMO_PASSWORD). Does nothing otherwise."
    )

    def handle(self, *args, **options) -> None:
        if not settings.OPSPORTAL_DEMO:
            self.stdout.write("OPSPORTAL_DEMO is off: no sample data, no demo admin.")
            return
        call_command("load_sample_data_if_empty", stdout=self.stdout, stderr=self.stderr)
        call_command("ensure_demo_admin", stdout=self.stdout, stderr=self.stderr)
