"""Webhooks in the admin: subscriptions (saves, test events, secret rotation and redelivery go through
the services), the delivery log with every attempt at a glance (replay), the events, the periodic jobs."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from events import schemas, services
from events.catalogue import names_matching
from events.choices import DeliveryStatus
from events.models import Delivery, Event, PeriodicJob, WebhookSubscription
from events.selectors import deliveries_visible_to, subscriptions_visible_to
from opsportal.admin import ReadOnlyModelAdmin, ServiceModelAdmin, ServiceModelForm, widget_schema
from opsportal.admin_html import admin_change_url, admin_link, badge, html_table
from opsportal.clock import now_ms
from opsportal.errors import ApplicationError

REDELIVER_WINDOW = timedelta(days=3)


class WebhookSubscriptionAdminForm(ServiceModelForm):
    class Meta:
        model = WebhookSubscription
        fields = "__all__"
        field_classes = {"url": partial(forms.URLField, assume_scheme="https")}


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ServiceModelAdmin):
    form = WebhookSubscriptionAdminForm
    list_display = ("url", "team_display", "active_badge", "filters_display", "created_by", "created_at")
    list_filter = ("active", "team")
    search_fields = ("url", "description")
    ordering = ("-created_at", "id")
    fieldsets = (
        (None, {"fields": ("url", "description", "team", "active", "revision")}),
        ("Filters (empty: every event)", {"fields": ("event_types", "environments", "teams")}),
        ("State", {"fields": ("state_panel", "recent_deliveries")}),
    )
    change_only_fields = ("state_panel", "recent_deliveries")
    service_fields = ("url", "description", "event_types", "environments", "teams", "team", "active")
    json_schemas = {
        "event_types": widget_schema(schemas.EVENT_TYPES),
        "environments": widget_schema(schemas.ENVIRONMENTS),
        "teams": widget_schema(schemas.TEAMS),
    }
    actions = ("send_test_event", "rotate_secret", "redeliver_failed")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return subscriptions_visible_to(request.user)

    # --- saves through the services

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> WebhookSubscription:
        subscription = services.webhook_create(actor=request.user, data=data)
        messages.warning(
            request,
            f"Signing secret of {subscription.url} (shown this once, store it with the receiver): "
            f"{subscription.secret}",
        )
        return subscription

    def service_update(self, request: HttpRequest, obj: WebhookSubscription, data: dict[str, Any]) -> Any:
        return services.webhook_update(
            subscription=obj, actor=request.user, data=data, expected_revision=data.get("revision")
        )

    def service_delete(self, request: HttpRequest, obj: WebhookSubscription) -> None:
        services.webhook_delete(subscription=obj, actor=request.user)

    # --- list and change page

    @admin.display(description="Team", ordering="team")
    def team_display(self, subscription: WebhookSubscription) -> str:
        return subscription.team or "— (portal-wide)"

    @admin.display(description="Active", ordering="active")
    def active_badge(self, subscription: WebhookSubscription) -> str:
        if subscription.active:
            return badge("succeeded", "active")
        return format_html(
            "{} <span class='op-muted'>{}</span>", badge("failed", "disabled"), subscription.disabled_reason
        )

    @admin.display(description="Filters")
    def filters_display(self, subscription: WebhookSubscription) -> str:
        parts = [", ".join(subscription.event_types) or "every event"]
        if subscription.environments:
            parts.append("in " + ", ".join(subscription.environments))
        teams = [subscription.team] if subscription.team else subscription.teams
        if teams:
            parts.append("of " + ", ".join(teams))
        return "; ".join(parts)

    @admin.display(description="State")
    def state_panel(self, subscription: WebhookSubscription) -> str:
        counts = {status: subscription.deliveries.filter(status=status).count() for status in DeliveryStatus.values}
        rows = [
            ("Active", "yes" if subscription.active else f"no — {subscription.disabled_reason}"),
            ("Secret", services.secret_hint(subscription.secret)),
            ("Previous secret valid until", subscription.previous_secret_expires_at or "—"),
            ("Matches", ", ".join(names_matching(subscription.event_types))),
            ("Deliveries", ", ".join(f"{status}: {count}" for status, count in counts.items())),
        ]
        return html_table(("", ""), rows)

    @admin.display(description="Latest deliveries")
    def recent_deliveries(self, subscription: WebhookSubscription) -> str:
        rows = [
            (
                admin_link(admin_change_url(delivery), delivery.created_at.strftime("%Y-%m-%d %H:%M:%S")),
                delivery.event_name,
                badge(delivery.status),
                delivery.attempt_count,
                delivery.last_status_code,
                delivery.last_error or "",
            )
            for delivery in subscription.deliveries.order_by("-created_at")[:10]
        ]
        return html_table(("Created", "Event", "Status", "Attempts", "Last status", "Last error"), rows)

    # --- actions (each subscription through its service; a refusal is a message, the others go on)

    def _for_each(self, request: HttpRequest, queryset: QuerySet, act: Any) -> None:
        for subscription in queryset:
            try:
                message = act(subscription)
            except ApplicationError as error:
                messages.error(request, f"{subscription.url}: {error.message}")
            else:
                messages.success(request, message)

    @admin.action(description="Send a test event")
    def send_test_event(self, request: HttpRequest, queryset: QuerySet) -> None:
        def act(subscription: WebhookSubscription) -> str:
            services.webhook_send_test(subscription=subscription, actor=request.user)
            return f"Test event queued for {subscription.url}: see its deliveries."

        self._for_each(request, queryset, act)

    @admin.action(description="Rotate the signing secret (the old one stays valid for the grace period)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet) -> None:
        def act(subscription: WebhookSubscription) -> str:
            rotated = services.webhook_rotate_secret(subscription=subscription, actor=request.user)
            return f"New signing secret of {rotated.url} (shown this once): {rotated.secret}"

        self._for_each(request, queryset, act)

    @admin.action(description="Redeliver failed and cancelled deliveries of the last 3 days")
    def redeliver_failed(self, request: HttpRequest, queryset: QuerySet) -> None:
        since = now_ms() - REDELIVER_WINDOW

        def act(subscription: WebhookSubscription) -> str:
            count = services.webhook_redeliver(subscription=subscription, actor=request.user, since=since)
            return f"{count} deliveries to {subscription.url} queued again."

        self._for_each(request, queryset, act)


def attempts_html(delivery: Delivery) -> str:
    """Every attempt, one row each: when, how long, the answer, the error, what next."""
    rows = [
        (
            f"{attempt.get('round', 0)}.{attempt.get('n')}",
            attempt.get("at"),
            f"{attempt.get('duration_ms', 0):g} ms",
            badge(
                "succeeded" if 200 <= (attempt.get("status_code") or 0) < 300 else "failed",
                str(attempt.get("status_code") or "no answer"),
            ),
            attempt.get("response") or "",
            attempt.get("error") or "",
            attempt.get("next_attempt_at") or "",
            attempt.get("worker") or "",
        )
        for attempt in delivery.attempts or []
    ]
    return html_table(
        ("#", "At", "Took", "Status", "Response (excerpt)", "Error", "Next attempt", "Worker"),
        rows,
        empty="Not sent yet.",
    )


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyModelAdmin):
    list_display = (
        "created_at",
        "event_name",
        "subscription_link",
        "status_badge",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("status", "event_name", "test")
    search_fields = ("=event_id", "=subscription__id")
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "subscription_link",
        "event_id",
        "event_name",
        "event_type",
        "seq",
        "status_badge",
        "attempt_count",
        "next_attempt_at",
        "retry_until",
        "claimed_by",
        "delivered_at",
        "replays",
        "attempts_table",
        "payload",
    )
    readonly_fields = fields
    actions = ("replay",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return deliveries_visible_to(request.user)

    def get_actions(self, request: HttpRequest) -> dict:
        return {name: value for name, value in super().get_actions(request).items() if name == "replay"}

    @admin.display(description="Subscription")
    def subscription_link(self, delivery: Delivery) -> str:
        return admin_link(
            admin_change_url("events.webhooksubscription", delivery.subscription_id), delivery.subscription_id
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, delivery: Delivery) -> str:
        return badge(delivery.status, delivery.get_status_display())

    @admin.display(description="Attempts")
    def attempts_table(self, delivery: Delivery) -> str:
        return attempts_html(delivery)

    @admin.display(description="Payload (the signed body)")
    def payload(self, delivery: Delivery) -> str:
        return format_html(
            "<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(json.loads(delivery.body), indent=2)
        )

    @admin.action(description="Replay (send again now, same webhook-id)")
    def replay(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = 0
        for delivery in queryset:
            try:
                services.delivery_replay(delivery=delivery, actor=request.user)
                done += 1
            except ApplicationError as error:
                messages.error(request, f"{delivery.pk}: {error.message}")
        if done:
            messages.success(request, f"{done} deliveries queued again.")


@admin.register(Event)
class EventAdmin(ReadOnlyModelAdmin):
    list_display = ("seq", "at", "name", "team", "environment", "id")
    list_filter = ("name",)
    search_fields = ("=id", "=audit_event")
    list_per_page = 50
    show_full_result_count = False
    fields = ("id", "seq", "index", "name", "type", "at", "team", "environment", "audit_event", "payload_html")
    readonly_fields = fields

    def get_actions(self, request: HttpRequest) -> dict:
        return {}

    @admin.display(description="Payload")
    def payload_html(self, event: Event) -> str:
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(event.payload, indent=2))


@admin.register(PeriodicJob)
class PeriodicJobAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "next_run_at", "last_started_at", "last_finished_at", "last_outcome", "runs", "claimed_by")
    fields = (*list_display, "last_error", "last_result")
    readonly_fields = fields

    def get_actions(self, request: HttpRequest) -> dict:
        return {}
