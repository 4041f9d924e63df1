# Issue #10: the audit chain is keyed (HMAC-SHA256 with AUDIT_SIGNING_KEY) and anchored by checkpoints.

import opsportal.ids
from django.db import migrations, models

CHOICES = [("sha256", "SHA-256 (before the signing key)"), ("hmac-sha256", "HMAC-SHA256")]


def seal_the_unkeyed_events(apps, schema_editor):
    """Events written before this migration were hashed with plain sha256 (now `hash_scheme="sha256"`),
    which anyone can recompute. If there are any, append one keyed `audit.checkpoint` event after them and
    anchor it: the chain then ends keyed, as `audit.selectors.audit_chain_verify` requires (a chain whose
    newest event is not keyed was recomputed without the key), and rewriting an old event breaks the link
    into this one, which cannot be recomputed without AUDIT_SIGNING_KEY. Set that key before migrating."""
    from audit.services import event_hash, head_signature, iso_ms
    from opsportal.clock import now_ms

    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditCheckpoint = apps.get_model("audit", "AuditCheckpoint")
    using = schema_editor.connection.alias
    tail = AuditEvent.objects.using(using).order_by("-seq").first()
    if tail is None:
        return
    now = now_ms()
    event = AuditEvent(
        seq=tail.seq + 1,
        at=now,
        action="audit.checkpoint",
        object_type="audit",
        object_id=str(tail.seq),
        changes={
            "covers": {"seq": tail.seq, "hash": tail.hash, "at": iso_ms(tail.at)},
            "reason": "The chain is keyed with AUDIT_SIGNING_KEY from here on.",
        },
        prev_hash=tail.hash,
        hash_scheme="hmac-sha256",
    )
    event.hash = event_hash(event.prev_hash, event)
    event.save(using=using, force_insert=True)
    AuditCheckpoint.objects.using(using).create(
        seq=event.seq,
        hash=event.hash,
        at=event.at,
        signature=head_signature(seq=event.seq, hash=event.hash, at=iso_ms(event.at)),
        created_at=now,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_pk_as_mongo_id_and_lookup_indexes'),
    ]

    operations = [
        # The events already stored were hashed with plain sha256…
        migrations.AddField(
            model_name='auditevent',
            name='hash_scheme',
            field=models.CharField(choices=CHOICES, default='sha256', max_length=16),
        ),
        # …every new one is keyed.
        migrations.AlterField(
            model_name='auditevent',
            name='hash_scheme',
            field=models.CharField(choices=CHOICES, default='hmac-sha256', max_length=16),
        ),
        migrations.CreateModel(
            name='AuditCheckpoint',
            fields=[
                ('id', models.CharField(db_column='_id', default=opsportal.ids.new_id, editable=False, max_length=64, primary_key=True, serialize=False)),
                ('seq', models.PositiveBigIntegerField(unique=True)),
                ('hash', models.CharField(max_length=64)),
                ('at', models.DateTimeField()),
                ('signature', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['-seq'],
                'indexes': [models.Index(fields=['seq'], name='audit_checkpoint_seq_idx')],
            },
        ),
        migrations.RunPython(seal_the_unkeyed_events, migrations.RunPython.noop),
    ]
