"""Create the database cache tables of `settings.CACHES` as part of `migrate`. Since the write-mix work of
issue #9 no cache is a database cache (without Redis the workers share files beside the database), so this
creates nothing today; it stays for the databases that already ran it. Not on MongoDB."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    if schema_editor.connection.vendor != "mongodb":
        call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("opsportal", "0002_idempotency_record")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
