"""Serializers of the events API: events and their catalogue, webhook subscriptions, deliveries."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from events.choices import DeliveryStatus
from events.models import Delivery, Event, WebhookSubscription
from events.services import secret_hint
from events.services.deliveries import REDELIVERABLE
from opsportal.clock import now_ms


class EventPayloadField(serializers.DictField):
    """The CDEvents envelope: `context`, `subject`, `customData`, `customDataContentType`."""


class EventSerializer(serializers.ModelSerializer):
    payload = EventPayloadField(help_text="The event as webhooks and the stream send it (CDEvents envelope).")

    class Meta:
        model = Event
        fields = ["id", "seq", "name", "type", "at", "team", "environment", "payload"]
        read_only_fields = fields


class EventTypeSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="What filters match, e.g. `service.deployed` (patterns: `service.*`).")
    type = serializers.CharField(help_text="`context.type` of the payload.")
    cdevents = serializers.BooleanField(help_text="A CDEvents type (else `dev.opsportal.<name>.v1`).")
    description = serializers.CharField()
    example = EventPayloadField(help_text="An example payload.")


# --------------------------------------------------------------------------- subscriptions


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.CharField(), help_text="Name patterns; empty: every event.")
    environments = serializers.ListField(child=serializers.CharField(), help_text="Environment ids; empty: all.")
    teams = serializers.ListField(child=serializers.CharField(), help_text="Team ids; empty: all.")
    secret_hint = serializers.SerializerMethodField(help_text="The secret's prefix and last characters.")
    previous_secret_valid_until = serializers.SerializerMethodField(
        help_text="While set, deliveries are also signed with the previous secret (rotation grace period)."
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "environments",
            "teams",
            "team",
            "active",
            "disabled_reason",
            "disabled_at",
            "secret_hint",
            "previous_secret_valid_until",
            "created_by",
            "created_at",
            "updated_at",
            "revision",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_secret_hint(self, subscription: WebhookSubscription) -> str:
        return secret_hint(subscription.secret)

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_previous_secret_valid_until(self, subscription: WebhookSubscription) -> str | None:
        expires = subscription.previous_secret_expires_at
        if not subscription.previous_secret or expires is None or expires <= now_ms():
            return None
        return serializers.DateTimeField().to_representation(expires)


class WebhookSubscriptionSecretSerializer(WebhookSubscriptionSerializer):
    """A subscription with its secret: only in the answers to create and rotate-secret."""

    secret = serializers.CharField(
        help_text="The signing secret (`whsec_` + base64). Shown this once: store it with the receiver."
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookSubscriptionInputSerializer(serializers.Serializer):
    """What a client sets on a subscription (the service validates URL, patterns and ids)."""

    url = serializers.CharField(max_length=2000, help_text="http(s) URL of the receiver.")
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=120),
        required=False,
        max_length=50,
        help_text="Event names, types or patterns (`release.*`); empty or missing: every event.",
    )
    environments = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=50, help_text="Environment ids."
    )
    teams = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=50, help_text="Team ids."
    )
    team = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Owning team: its members manage the subscription, which gets that team's events only. "
        "Defaults to the creator's team for non-Release-Managers with exactly one team.",
    )
    active = serializers.BooleanField(required=False, help_text="Off: nothing is sent. On again: clears the reason.")


class WebhookRotateSecretInputSerializer(serializers.Serializer):
    grace_hours = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=720,
        help_text="How long the old secret keeps signing too (default OPSPORTAL_WEBHOOK_SECRET_GRACE_HOURS; 0: "
        "not at all).",
    )


class WebhookRedeliverInputSerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="Deliveries created at or after this moment (ISO 8601).")
    statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=list(REDELIVERABLE)),
        required=False,
        help_text="Which to send again (default both `failed` and `cancelled`).",
    )


class WebhookRedeliverResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Deliveries queued again.")


# --------------------------------------------------------------------------- deliveries


class DeliveryAttemptSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="Attempt number (since the last replay).")
    round = serializers.IntegerField(help_text="0, then +1 per replay.")
    at = serializers.CharField(help_text="When it was sent (ISO 8601, UTC).")
    duration_ms = serializers.FloatField()
    status_code = serializers.IntegerField(allow_null=True, help_text="The receiver's status; null: no answer.")
    response = serializers.CharField(allow_blank=True, help_text="The start of the response body (1 KiB at most).")
    error = serializers.CharField(allow_blank=True, help_text="Timeout, connection error, or the SSRF guard's refusal.")
    worker = serializers.CharField(allow_blank=True)
    next_attempt_at = serializers.CharField(
        required=False, allow_null=True, help_text="After a failure: when the next attempt is due (null: gave up)."
    )


class DeliverySerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    in_flight = serializers.SerializerMethodField(help_text="A worker holds it right now (being sent).")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "subscription",
            "event_id",
            "event_name",
            "event_type",
            "seq",
            "test",
            "status",
            "in_flight",
            "attempt_count",
            "next_attempt_at",
            "retry_until",
            "last_status_code",
            "last_error",
            "replays",
            "created_at",
            "updated_at",
            "delivered_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_in_flight(self, delivery: Delivery) -> bool:
        return bool(delivery.claim_token) and delivery.status == DeliveryStatus.PENDING


class DeliveryDetailSerializer(DeliverySerializer):
    attempts = DeliveryAttemptSerializer(many=True, help_text="Every attempt, oldest first (the last 50).")
    payload = serializers.SerializerMethodField(help_text="The body that is sent (and signed), as JSON.")

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "attempts", "payload"]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {}})
    def get_payload(self, delivery: Delivery) -> dict[str, Any]:
        return json.loads(delivery.body)
