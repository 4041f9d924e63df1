"""Routes of this app under /api/v1."""

from events.api.views import EventViewSet, WebhookDeliveryViewSet, WebhookSubscriptionViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1 router (`webhooks/deliveries` before `webhooks/{id}`)."""
    router.register("events", EventViewSet, basename="event")
    router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
    router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")
