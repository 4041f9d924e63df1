"""Evidence payloads: the signed envelope and the public key."""

from rest_framework import serializers

ALGORITHMS = ["Ed25519"]


class EvidenceSignatureSerializer(serializers.Serializer):
    algorithm = serializers.ChoiceField(choices=ALGORITHMS)
    key_id = serializers.CharField(help_text="First 16 hex digits of the sha256 of the raw public key.")
    value = serializers.CharField(help_text="Base64 Ed25519 signature of the canonical JSON of `digests`.")


class EvidenceEnvelopeSerializer(serializers.Serializer):
    """A release's signed evidence (README, "Evidence for auditors")."""

    format = serializers.CharField(help_text="`opsportal.evidence.v1`.")
    evidence = serializers.DictField(
        help_text="The document: evidence_id (null when not stored), collected_at, collected_by, trigger, release, "
        "approvals, deploy_checks, deployments, freeze_overrides, incidents, audit_events, audit_head."
    )
    digests = serializers.DictField(
        child=serializers.CharField(), help_text="sha256 (hex) of the canonical JSON of each part, by path."
    )
    signature = EvidenceSignatureSerializer()


class EvidenceQuerySerializer(serializers.Serializer):
    live = serializers.BooleanField(
        default=False, help_text="Collect now (signed, not stored) instead of answering the stored evidence."
    )


class EvidencePublicKeySerializer(serializers.Serializer):
    algorithm = serializers.ChoiceField(choices=ALGORITHMS)
    key_id = serializers.CharField()
    public_key_pem = serializers.CharField(help_text="SubjectPublicKeyInfo PEM.")
    public_key_base64 = serializers.CharField(help_text="The raw 32-byte public key, base64.")
