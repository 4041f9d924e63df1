"""The dashboard's page in the admin: `admin:dashboard`, which the admin index links."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.urls import path

from dashboard.admin_views import dashboard_view


def _with_dashboard(get_urls: Callable[[], list]) -> Callable[[], list]:
    """The default site's URLs plus `admin:dashboard`."""

    def urls() -> list:
        return [path("dashboard/", admin.site.admin_view(dashboard_view), name="dashboard"), *get_urls()]

    return urls


# One extra URL does not justify replacing the default site (and its MongoDB app config).
admin.site.get_urls = _with_dashboard(admin.site.get_urls)
