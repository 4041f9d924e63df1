"""Create the database cache table (throttling counters shared by all workers) as part of
`migrate`, so every run path (quick start, docker, tests) has it. Not on MongoDB, where
the cache is Redis or files (settings.CACHES)."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    if schema_editor.connection.vendor != "mongodb":
        call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("opsportal", "0002_idempotency_record")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
