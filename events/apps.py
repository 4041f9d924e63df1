from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Outgoing events (DESIGN §9): the catalogue, webhook subscriptions and deliveries, the SSE stream,
    and the worker with its periodic jobs."""

    name = "events"
    verbose_name = "Events and webhooks"
    default_auto_field = "django.db.models.BigAutoField"
