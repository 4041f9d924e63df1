"""ASGI entry point: Django for HTTP, GraphQL subscriptions on the `/graphql` WebSocket.

Served by `gunicorn -c gunicorn.asgi.conf.py` (uvicorn workers) beside the REST server (README "GraphQL").
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

# Django first: the routing below imports the app's models.
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from graphql_api.schema import ws_schema  # noqa: E402
from graphql_api.views import PortalGraphQLWSConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": URLRouter([path("graphql", PortalGraphQLWSConsumer.as_asgi(schema=ws_schema))]),
    }
)
