"""OpenAPI of the events, stream and webhook endpoints: examples, parameters and the decorators
`events.api.views` applies. Refusal examples are built from the exceptions the services raise."""

from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from events.api.serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    EventTypeSerializer,
    WebhookRedeliverInputSerializer,
    WebhookRedeliverResultSerializer,
    WebhookRotateSecretInputSerializer,
    WebhookSubscriptionInputSerializer,
    WebhookSubscriptionSecretSerializer,
    WebhookSubscriptionSerializer,
)
from events.catalogue import BY_NAME, catalogue, example
from events.models import Delivery, WebhookSubscription
from events.stream import STREAMS_FULL
from opsportal.api.schema import IDEMPOTENCY_KEY, error_response, if_match_parameter, not_found_response
from opsportal.errors import Conflict, Forbidden

# --------------------------------------------------------------------------- examples

_UPGRADED = example(BY_NAME["service.upgraded"])
EVENT_EXAMPLE = {
    "id": _UPGRADED["context"]["id"],
    "seq": 1042,
    "name": "service.upgraded",
    "type": _UPGRADED["context"]["type"],
    "at": "2026-11-20T10:15:00.123Z",
    "team": "platform-team",
    "environment": "production",
    "payload": _UPGRADED,
}
SUBSCRIPTION_ID = "665f1c2e9b1e8a3d4c5b6a90"
SUBSCRIPTION_EXAMPLE = {
    "id": SUBSCRIPTION_ID,
    "url": "https://chat.example.com/hooks/opsportal",
    "description": "Production deploys to #releases",
    "event_types": ["service.*", "release.rolled_back"],
    "environments": ["production"],
    "teams": [],
    "team": "platform-team",
    "active": True,
    "disabled_reason": "",
    "disabled_at": None,
    "secret_hint": "whsec_…Zw8=",
    "previous_secret_valid_until": None,
    "created_by": "alice",
    "created_at": "2026-11-02T08:00:00.000Z",
    "updated_at": "2026-11-02T08:00:00.000Z",
    "revision": 1,
}
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw8VXZ8+t5Zw8="  # noqa: S105 - a documentation example
CREATE_EXAMPLE = {
    "url": "https://chat.example.com/hooks/opsportal",
    "description": "Production deploys to #releases",
    "event_types": ["service.*", "release.rolled_back"],
    "environments": ["production"],
    "team": "platform-team",
}
DELIVERY_ID = "665f1c2e9b1e8a3d4c5b6a95"
_ATTEMPT_FAILED = {
    "n": 1,
    "round": 0,
    "at": "2026-11-20T10:15:00.180Z",
    "duration_ms": 10003.2,
    "status_code": None,
    "response": "",
    "error": "timeout: timed out",
    "worker": "worker-1:4242:a1b2c3",
    "next_attempt_at": "2026-11-20T10:15:38.000Z",
}
_ATTEMPT_OK = {
    "n": 2,
    "round": 0,
    "at": "2026-11-20T10:15:38.040Z",
    "duration_ms": 41.7,
    "status_code": 200,
    "response": '{"ok":true}',
    "error": "",
    "worker": "worker-2:4317:d4e5f6",
    "next_attempt_at": None,
}
DELIVERY_EXAMPLE = {
    "id": DELIVERY_ID,
    "subscription": SUBSCRIPTION_ID,
    "event_id": _UPGRADED["context"]["id"],
    "event_name": "service.upgraded",
    "event_type": _UPGRADED["context"]["type"],
    "seq": 1042,
    "test": False,
    "status": "succeeded",
    "in_flight": False,
    "attempt_count": 2,
    "next_attempt_at": None,
    "retry_until": "2026-11-23T10:15:00.123Z",
    "last_status_code": 200,
    "last_error": "",
    "replays": 0,
    "created_at": "2026-11-20T10:15:00.123Z",
    "updated_at": "2026-11-20T10:15:38.090Z",
    "delivered_at": "2026-11-20T10:15:38.090Z",
}
DELIVERY_DETAIL_EXAMPLE = {**DELIVERY_EXAMPLE, "attempts": [_ATTEMPT_FAILED, _ATTEMPT_OK], "payload": _UPGRADED}

INACTIVE = Conflict(
    "This webhook subscription is disabled: The receiver answered 410 Gone at 2026-11-20T10:15:00.180Z "
    f"(delivery {DELIVERY_ID}). Turn it on (`active: true`) first.",
    code="subscription_inactive",
)
TEAM_REQUIRED = Forbidden(
    "To manage the webhooks of team 'platform-team' you must be a member of that team or a Release Manager.",
    code="team_required",
    required_team="platform-team",
)


def _response(name: str, value: object, status: int | None = None) -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[str(status)] if status else None)


# --------------------------------------------------------------------------- events

_FILTER_PARAMETERS = [
    OpenApiParameter(
        "types",
        OpenApiTypes.STR,
        description="Comma-separated event names, types or patterns, e.g. `release.*,service.deployed`.",
    ),
    OpenApiParameter("environment", OpenApiTypes.STR, description="Comma-separated environment ids."),
    OpenApiParameter("team", OpenApiTypes.STR, description="Comma-separated team ids."),
]

EVENT_VIEWSET_SCHEMA = extend_schema_view(
    list=extend_schema(
        summary="List events",
        description="Events in sequence order (oldest first): what webhooks and the stream send. `after` pages "
        "through them by sequence; the same filters as a subscription.",
        examples=[_response("Event", EVENT_EXAMPLE)],
    ),
    retrieve=extend_schema(summary="Get one event", examples=[_response("Event", EVENT_EXAMPLE)]),
)

TYPES_SCHEMA = extend_schema(
    summary="The event catalogue",
    description="Every event type: its `name` (what filters match), its `type` (CDEvents where the spec has "
    "one, `dev.opsportal.<name>.v1` otherwise), what it means and an example payload.",
    responses={200: EventTypeSerializer(many=True)},
    examples=[_response("One type of the catalogue", catalogue()[0])],
)

_STREAM_TEXT = (
    ": connected at 1041\nretry: 3000\n\n"
    f"data: {json.dumps(example(BY_NAME['deployment.succeeded']), separators=(',', ':'))}\n"
    "\n"
    f"data: {json.dumps(_UPGRADED, separators=(',', ':'))}\n"
    "id: 1042\n\n"
    ": heartbeat\n\n"
)

# One Server-Sent Events message (what an SSE client dispatches; the `itemSchema` of OpenAPI 3.2).
SSE_MESSAGE = {
    "type": "object",
    "properties": {
        "data": {"type": "string", "description": "The event's payload: its CDEvents envelope as JSON."},
        "id": {
            "type": "string",
            "description": "The event's sequence, on the last message of a sequence: send it back as `Last-Event-ID`.",
        },
        "event": {"type": "string", "description": "Always the default, `message`."},
        "retry": {"type": "integer", "description": "Milliseconds a client waits before reconnecting."},
    },
    "required": ["data"],
}

STREAM_SCHEMA = extend_schema(
    summary="Live events (Server-Sent Events)",
    description="`text/event-stream`: every new event matching the filters, as its change commits; each message's "
    "`data` is the event's payload (the same JSON a webhook receives). `id` is the event's sequence, sent after "
    "the last event of each sequence: reconnect with `Last-Event-ID` (EventSource does) to get everything after "
    "it. Without one the stream starts now. A `: heartbeat` comment every 15 s while idle; the stream ends after "
    "`OPSPORTAL_SSE_MAX_SECONDS` (the client reconnects and resumes). Readable by whoever may read the API. "
    "When a server holds as many streams as it serves: 503 with `Retry-After`.",
    parameters=[
        *_FILTER_PARAMETERS,
        OpenApiParameter(
            "last_event_id",
            OpenApiTypes.INT,
            description="Start after this sequence (for clients that cannot send the `Last-Event-ID` header).",
        ),
        OpenApiParameter(
            "Last-Event-ID",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="The `id` of the last message received: the stream resumes after it.",
        ),
        OpenApiParameter(
            "Retry-After",
            OpenApiTypes.INT,
            OpenApiParameter.HEADER,
            response=[503],
            description="Seconds to wait before opening the stream again.",
        ),
    ],
    responses={
        (200, "text/event-stream"): OpenApiResponse(
            SSE_MESSAGE,
            description="The stream (until `OPSPORTAL_SSE_MAX_SECONDS`), one message per event (the schema is "
            "that of one message), e.g.\n\n```\n" + _STREAM_TEXT + "```",
            examples=[
                OpenApiExample(
                    "The last event of a sequence",
                    value={"data": json.dumps(_UPGRADED, separators=(",", ":")), "id": "1042"},
                )
            ],
        ),
        503: error_response(
            "Too many open streams on this server; retry after `Retry-After` seconds.", ("Streams full", STREAMS_FULL)
        ),
    },
)

# --------------------------------------------------------------------------- subscriptions

IF_MATCH = if_match_parameter(WebhookSubscription, SUBSCRIPTION_ID, 1)

WEBHOOK_VIEWSET_SCHEMA = extend_schema_view(
    list=extend_schema(
        summary="List webhook subscriptions",
        description="Release Managers see every subscription; other users those of their teams.",
        examples=[_response("Subscription", SUBSCRIPTION_EXAMPLE)],
    ),
    retrieve=extend_schema(
        summary="Get one webhook subscription",
        responses={200: WebhookSubscriptionSerializer, 404: not_found_response(WebhookSubscription)},
        examples=[_response("Subscription", SUBSCRIPTION_EXAMPLE)],
    ),
    create=extend_schema(
        summary="Create a webhook subscription",
        description="Release Managers, or a team's members for their team. The answer carries the signing "
        "`secret` (Standard Webhooks `whsec_…`) this once; later reads show `secret_hint` only.",
        parameters=[IDEMPOTENCY_KEY],
        request=WebhookSubscriptionInputSerializer,
        responses={
            201: WebhookSubscriptionSecretSerializer,
            403: error_response("Not your team", ("Team", TEAM_REQUIRED)),
        },
        examples=[
            OpenApiExample("Production deploys", value=CREATE_EXAMPLE, request_only=True),
            _response("Created", {**SUBSCRIPTION_EXAMPLE, "secret": SECRET}),
        ],
    ),
    update=extend_schema(
        summary="Replace a webhook subscription's settings",
        parameters=[IF_MATCH],
        request=WebhookSubscriptionInputSerializer,
        responses={200: WebhookSubscriptionSerializer},
        examples=[
            OpenApiExample("Settings", value=CREATE_EXAMPLE, request_only=True),
            _response("Subscription", SUBSCRIPTION_EXAMPLE),
        ],
    ),
    partial_update=extend_schema(
        summary="Change a webhook subscription",
        parameters=[IF_MATCH],
        description='E.g. `{"active": true}` turns a disabled subscription on again (its reason is cleared).',
        request=WebhookSubscriptionInputSerializer(partial=True),
        responses={200: WebhookSubscriptionSerializer},
        examples=[
            OpenApiExample("Turn on", value={"active": True}, request_only=True),
            _response("Subscription", SUBSCRIPTION_EXAMPLE),
        ],
    ),
    destroy=extend_schema(summary="Delete a webhook subscription (and its delivery log)", parameters=[IF_MATCH]),
)

ROTATE_SECRET_SCHEMA = extend_schema(
    summary="Rotate the signing secret",
    parameters=[IDEMPOTENCY_KEY],
    request=WebhookRotateSecretInputSerializer,
    responses={200: WebhookSubscriptionSecretSerializer},
    examples=[
        OpenApiExample("Keep the old secret for a day", value={"grace_hours": 24}, request_only=True),
        _response(
            "Rotated",
            {
                **SUBSCRIPTION_EXAMPLE,
                "secret": SECRET,
                "previous_secret_valid_until": "2026-11-21T08:00:00.000Z",
                "revision": 2,
            },
        ),
    ],
)

TEST_SCHEMA = extend_schema(
    summary="Send a test event",
    request=None,
    parameters=[
        IDEMPOTENCY_KEY,
        OpenApiParameter(
            "Location",
            OpenApiTypes.URI,
            OpenApiParameter.HEADER,
            response=[202],
            description="The queued delivery in the log.",
        ),
    ],
    responses={
        202: OpenApiResponse(DeliverySerializer, description="Queued; `Location` is the delivery in the log."),
        409: error_response("The subscription is disabled.", ("Disabled", INACTIVE)),
    },
    examples=[
        _response(
            "Queued",
            status=202,
            value={
                **DELIVERY_EXAMPLE,
                "event_id": "evt_test_665f1c2e9b1e8a3d4c5b6a96",
                "event_name": "webhook.test",
                "event_type": "dev.opsportal.webhook.test.v1",
                "test": True,
                "status": "pending",
                "attempt_count": 0,
                "next_attempt_at": "2026-11-20T10:15:00.123Z",
                "last_status_code": None,
                "delivered_at": None,
            },
        )
    ],
)

REDELIVER_SCHEMA = extend_schema(
    summary="Redeliver failed deliveries",
    parameters=[IDEMPOTENCY_KEY],
    request=WebhookRedeliverInputSerializer,
    responses={
        202: WebhookRedeliverResultSerializer,
        409: error_response("The subscription is disabled.", ("Disabled", INACTIVE)),
    },
    examples=[
        OpenApiExample("Since the outage", value={"since": "2026-11-20T08:00:00Z"}, request_only=True),
        _response("Queued again", {"count": 17}, status=202),
    ],
)

# --------------------------------------------------------------------------- deliveries

DELIVERY_VIEWSET_SCHEMA = extend_schema_view(
    list=extend_schema(
        summary="The delivery log",
        description="Every event queued for a subscription you see, newest first; each attempt is in the detail.",
        examples=[_response("Delivery", DELIVERY_EXAMPLE)],
    ),
    retrieve=extend_schema(
        summary="One delivery, with every attempt",
        responses={200: DeliveryDetailSerializer, 404: not_found_response(Delivery)},
        examples=[_response("Delivered on the second attempt", DELIVERY_DETAIL_EXAMPLE)],
    ),
)

REPLAY_SCHEMA = extend_schema(
    summary="Replay a delivery",
    request=None,
    parameters=[IDEMPOTENCY_KEY],
    responses={
        202: DeliveryDetailSerializer,
        409: error_response("The subscription is disabled.", ("Disabled", INACTIVE)),
    },
    examples=[
        _response(
            "Queued again",
            {**DELIVERY_DETAIL_EXAMPLE, "status": "pending", "attempt_count": 0, "replays": 1, "in_flight": False},
            status=202,
        )
    ],
)
