from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    changes = serializers.DictField(
        child=serializers.JSONField(), help_text="Field → [old, new] (or action details such as a reason)."
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "seq",
            "at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "changes",
            "request_id",
            "client_ip",
            "prev_hash",
            "hash",
            "hash_scheme",
        ]
        read_only_fields = fields


class AuditCheckpointSummarySerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="The head the checkpoint anchored.")
    at = serializers.CharField(help_text="When that event was recorded (ISO 8601, UTC).")


class AuditChainVerificationSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    events = serializers.IntegerField(help_text="Events checked.")
    first_broken = serializers.IntegerField(
        allow_null=True, help_text="Sequence number of the first bad (or, when truncated, first missing) event."
    )
    problem = serializers.ChoiceField(
        choices=["tampered", "missing", "truncated"],
        allow_null=True,
        help_text="`tampered`: an event, link or checkpoint changed, or the chain was recomputed without the key; "
        "`missing`: events deleted from the middle; `truncated`: the chain ends before the latest checkpoint.",
    )
    message = serializers.CharField(help_text="What was found, for people.")
    checkpoint = AuditCheckpointSummarySerializer(allow_null=True, help_text="The latest checkpoint, if any.")


class AuditHeadSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="Sequence number of the newest event (0: no events yet).")
    hash = serializers.CharField(allow_blank=True, help_text="Its hash (HMAC-SHA256 chain link).")
    at = serializers.CharField(allow_null=True, help_text="When it was recorded, ISO 8601 UTC to the millisecond.")
    signature = serializers.CharField(
        help_text="HMAC-SHA256, hex, with the server's AUDIT_SIGNING_KEY over "
        '`opsportal.audit.head.v1\\n{"at":…,"hash":…,"seq":…}` (compact JSON, sorted keys).'
    )
