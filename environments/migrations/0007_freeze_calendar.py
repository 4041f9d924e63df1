"""The freeze calendar (issue #12): `Freeze` documents replace the freeze windows embedded in environments.

Each embedded window becomes a one-off freeze scoped to its environment (same start, end and reason;
named after the environment and its start, id its slug). Windows that already ended are moved too: they
are the record of past freezes. Going back is not supported (a freeze can say more than a window).
"""

import opsportal.clock
import opsportal.schemas
from django.db import migrations, models
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify


def windows_to_freezes(apps, schema_editor):
    Environment = apps.get_model("environments", "Environment")
    Freeze = apps.get_model("environments", "Freeze")
    for environment in Environment.objects.order_by("order", "id"):
        for index, window in enumerate(environment.freeze_windows or []):
            starts = parse_datetime(str(window.get("starts_at") or ""))
            ends = parse_datetime(str(window.get("ends_at") or ""))
            if starts is None or ends is None or starts.tzinfo is None or ends.tzinfo is None or ends <= starts:
                continue
            name = f"{environment.name} freeze {starts:%Y-%m-%d %H:%M} ({index + 1})"
            Freeze.objects.create(
                id=slugify(name)[:64],
                name=name,
                reason=str(window.get("reason") or "")[:500],
                created_by="migration",
                timezone="UTC",
                starts_at=starts,
                ends_at=ends,
                environments=[environment.pk],
                source=f"window:{environment.pk}:{index}",
            )


class Migration(migrations.Migration):

    dependencies = [
        ('environments', '0006_approval_policy'),
    ]

    operations = [
        migrations.CreateModel(
            name='Freeze',
            fields=[
                ('id', models.SlugField(db_column='_id', max_length=64, primary_key=True, serialize=False)),
                ('name', models.CharField(max_length=200, unique=True)),
                ('description', models.TextField(blank=True, default='', max_length=10000)),
                ('revision', models.PositiveIntegerField(default=1)),
                ('created_at', models.DateTimeField(default=opsportal.clock.now_ms, editable=False)),
                ('updated_at', models.DateTimeField(default=opsportal.clock.now_ms, editable=False)),
                ('reference_seq', models.PositiveIntegerField(default=0, editable=False)),
                ('reason', models.CharField(blank=True, default='', max_length=500)),
                ('created_by', models.CharField(blank=True, default='', max_length=150)),
                ('timezone', models.CharField(default='UTC', help_text='IANA time zone, e.g. Europe/Berlin.', max_length=64)),
                ('starts_at', models.DateTimeField(help_text="The (first) occurrence's start.")),
                ('ends_at', models.DateTimeField(blank=True, help_text='One-off freezes: the end (exclusive).', null=True)),
                ('rrule', models.CharField(blank=True, default='', help_text='RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SA (no DTSTART).', max_length=500)),
                ('duration_minutes', models.PositiveIntegerField(blank=True, help_text='Recurring freezes: how long each occurrence lasts.', null=True)),
                ('exdates', models.JSONField(blank=True, default=list, validators=[opsportal.schemas.JSONSchemaValidator('environments.schemas.EXDATES', 'exdates')])),
                ('environments', models.JSONField(blank=True, default=list, validators=[opsportal.schemas.JSONSchemaValidator('environments.schemas.SCOPE_IDS', 'environments')])),
                ('tiers', models.JSONField(blank=True, default=list, validators=[opsportal.schemas.JSONSchemaValidator('environments.schemas.SCOPE_TIERS', 'tiers')])),
                ('teams', models.JSONField(blank=True, default=list, validators=[opsportal.schemas.JSONSchemaValidator('environments.schemas.SCOPE_IDS', 'teams')])),
                ('source', models.CharField(blank=True, default='', max_length=300)),
            ],
            options={
                'ordering': ['starts_at', 'id'],
                'abstract': False,
                'indexes': [models.Index(fields=['name'], name='freeze_name_idx'), models.Index(fields=['starts_at', 'id'], name='freeze_starts_idx'), models.Index(fields=['source'], name='freeze_source_idx')],
            },
        ),
        migrations.RunPython(windows_to_freezes, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='environment',
            name='freeze_windows',
        ),
    ]
