"""Events, the live stream, webhook subscriptions and their delivery log. Thin: input is validated by
serializers, every change is a call into `events.services`."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from events import services
from events.api.schema import (
    DELIVERY_VIEWSET_SCHEMA,
    EVENT_VIEWSET_SCHEMA,
    REDELIVER_SCHEMA,
    REPLAY_SCHEMA,
    ROTATE_SECRET_SCHEMA,
    STREAM_SCHEMA,
    TEST_SCHEMA,
    TYPES_SCHEMA,
    WEBHOOK_VIEWSET_SCHEMA,
)
from events.api.serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    EventSerializer,
    EventTypeSerializer,
    WebhookRedeliverInputSerializer,
    WebhookRedeliverResultSerializer,
    WebhookRotateSecretInputSerializer,
    WebhookSubscriptionInputSerializer,
    WebhookSubscriptionSecretSerializer,
    WebhookSubscriptionSerializer,
)
from events.catalogue import catalogue
from events.filtersets import MAX_SEQUENCE, DeliveryFilterSet, EventFilterSet, WebhookSubscriptionFilterSet
from events.models import Event
from events.selectors import deliveries_visible_to, subscriptions_visible_to
from events.services.deliveries import REDELIVERABLE
from events.stream import SLOTS, STREAMS_FULL, STREAMS_RETRY_AFTER_SECONDS, event_stream
from opsportal.api.mixins import IdempotentPostMixin, RevisionETagMixin
from opsportal.errors import ValidationFailed


class EventStreamRenderer(BaseRenderer):
    """`text/event-stream`: the stream itself is streamed by the view; this renders its refusals as one
    `error` event (what an EventSource client asked for)."""

    media_type = "text/event-stream"
    format = "event-stream"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return f"event: error\ndata: {json.dumps(data)}\n\n".encode()


class _HeldSlot:
    """The stream's text; its slot is given back when the server closes the response, however it ends."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.closed = False

    def __iter__(self) -> _HeldSlot:
        return self

    def __next__(self) -> str:
        return next(self.stream)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.stream.close()
            SLOTS.give_back()


def _last_event_id(request: Request) -> int | None:
    """`Last-Event-ID` (what EventSource sends when it reconnects) or `?last_event_id=`: a sequence."""
    raw = request.headers.get("Last-Event-ID") or request.query_params.get("last_event_id")
    if raw is None or raw.strip() == "":
        return None
    if not raw.strip().isdigit() or int(raw) > MAX_SEQUENCE:
        raise ValidationFailed({"Last-Event-ID": ["An event sequence (a whole number)."]})
    return int(raw)


@EVENT_VIEWSET_SCHEMA
class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """Events (DESIGN §9) in sequence order, the catalogue of their types, and the live stream."""

    queryset = Event.objects.all()
    serializer_class = EventSerializer
    filterset_class = EventFilterSet
    search_fields: list[str] = []
    ordering_fields: list[str] = []
    ordering = ["seq", "index"]

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    @TYPES_SCHEMA
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def types(self, request: Request) -> Response:
        """Every event type, with its description and an example payload."""
        return Response(EventTypeSerializer(catalogue(), many=True).data)

    @STREAM_SCHEMA
    @action(
        detail=False,
        methods=["get"],
        pagination_class=None,
        filter_backends=[],
        renderer_classes=[JSONRenderer, EventStreamRenderer],
    )
    def stream(self, request: Request) -> Response | StreamingHttpResponse:
        """Server-Sent Events: every new event matching the filters, as it commits; resumable with
        `Last-Event-ID` (an event's sequence); a comment every 15 s while idle."""
        filterset = EventFilterSet(request.query_params, queryset=Event.objects.none())
        if not filterset.is_valid():
            raise ValidationFailed({key: [str(m) for m in messages] for key, messages in filterset.errors.items()})
        filters = filterset.event_filter()
        position = _last_event_id(request)
        if not SLOTS.take(settings.OPSPORTAL_SSE_MAX_STREAMS):
            return Response(
                {"code": STREAMS_FULL.code, "detail": STREAMS_FULL.message},
                status=STREAMS_FULL.status_code,
                headers={"Retry-After": str(STREAMS_RETRY_AFTER_SECONDS)},
            )
        stream = event_stream(
            position=position,
            filters=filters,
            heartbeat_seconds=settings.OPSPORTAL_SSE_HEARTBEAT_SECONDS,
            max_seconds=settings.OPSPORTAL_SSE_MAX_SECONDS,
        )
        response = StreamingHttpResponse(_HeldSlot(stream), content_type="text/event-stream; charset=utf-8")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # proxies (nginx) must not buffer the stream
        return response


# --------------------------------------------------------------------------- subscriptions

_AUTHENTICATED = [*api_settings.DEFAULT_PERMISSION_CLASSES, IsAuthenticated]


@WEBHOOK_VIEWSET_SCHEMA
class WebhookSubscriptionViewSet(IdempotentPostMixin, RevisionETagMixin, viewsets.ModelViewSet):
    """Webhook subscriptions: Release Managers manage all of them, a team's members their team's."""

    serializer_class = WebhookSubscriptionSerializer
    permission_classes = _AUTHENTICATED
    filterset_class = WebhookSubscriptionFilterSet
    search_fields = ["url", "description"]
    ordering_fields = ["created_at", "url"]
    ordering = ["-created_at", "id"]

    def get_queryset(self):
        return subscriptions_visible_to(self.request.user)

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def _input(self, *, partial: bool = False) -> dict[str, Any]:
        data = WebhookSubscriptionInputSerializer(data=self.request.data, partial=partial)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create a subscription. The answer carries its `secret`, this once."""
        subscription = services.webhook_create(actor=request.user, data=self._input())
        location = reverse("webhook-detail", kwargs={"pk": subscription.pk}, request=request)
        return Response(
            WebhookSubscriptionSecretSerializer(subscription).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        subscription = self.get_object()
        subscription = services.webhook_update(
            subscription=subscription,
            actor=request.user,
            data=self._input(partial=partial),
            expected_revision=self.expected_revision(subscription),
        )
        return Response(WebhookSubscriptionSerializer(subscription).data)

    def perform_destroy(self, instance) -> None:
        services.webhook_delete(
            subscription=instance, actor=self.request.user, expected_revision=self.expected_revision(instance)
        )

    @ROTATE_SECRET_SCHEMA
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        """Give the subscription a new secret (in the answer, this once); the old one keeps signing too for a
        grace period, so the receiver can switch without missing a delivery."""
        data = WebhookRotateSecretInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.webhook_rotate_secret(
            subscription=self.get_object(), actor=request.user, grace_hours=data.validated_data.get("grace_hours")
        )
        return Response(WebhookSubscriptionSecretSerializer(subscription).data)

    @TEST_SCHEMA
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Queue a `webhook.test` event for this subscription alone (202, the delivery: follow it in the log)."""
        delivery = services.webhook_send_test(subscription=self.get_object(), actor=request.user)
        location = reverse("webhook-delivery-detail", kwargs={"pk": delivery.pk}, request=request)
        return Response(
            DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location}
        )

    @REDELIVER_SCHEMA
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str | None = None) -> Response:
        """Send again every failed (and cancelled) delivery of this subscription created since a moment."""
        data = WebhookRedeliverInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.webhook_redeliver(
            subscription=self.get_object(),
            actor=request.user,
            since=data.validated_data["since"],
            statuses=data.validated_data.get("statuses") or list(REDELIVERABLE),
        )
        return Response(WebhookRedeliverResultSerializer({"count": count}).data, status=status.HTTP_202_ACCEPTED)


@DELIVERY_VIEWSET_SCHEMA
class WebhookDeliveryViewSet(IdempotentPostMixin, viewsets.ReadOnlyModelViewSet):
    """The delivery log: every event sent to a subscription, with each attempt; replay one."""

    permission_classes = _AUTHENTICATED
    filterset_class = DeliveryFilterSet
    search_fields: list[str] = []
    ordering_fields = ["created_at", "seq"]
    ordering = ["-created_at", "id"]

    def get_queryset(self):
        return deliveries_visible_to(self.request.user)

    def get_serializer_class(self):
        return DeliverySerializer if self.action == "list" else DeliveryDetailSerializer

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    @REPLAY_SCHEMA
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        """Send this delivery again now (same `webhook-id` and body); its retries start over."""
        delivery = services.delivery_replay(delivery=self.get_object(), actor=request.user)
        return Response(DeliveryDetailSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
