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
        ]
        read_only_fields = fields


class AuditChainVerificationSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    events = serializers.IntegerField(help_text="Events checked.")
    first_broken = serializers.IntegerField(allow_null=True, help_text="Sequence number of the first bad event.")
