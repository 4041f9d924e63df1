"""Swagger UI and ReDoc in a real browser load nothing from outside the portal (issue #14): every
request the pages make goes to the portal itself, and Swagger shows one section per resource.
Screenshots: artifacts/screenshots/."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESOURCES = ["releases", "deployments", "environments", "teams", "workflows", "dashboard", "audit", "auth"]


def outside_requests(page, live_server) -> list[str]:
    portal = urlsplit(live_server.url).netloc
    return [
        url
        for url in page.requested_urls
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != portal
    ]


@pytest.fixture
def recorded(page):
    page.requested_urls = []
    page.on("request", lambda request: page.requested_urls.append(request.url))
    return page


def test_swagger_ui_shows_one_section_per_resource_and_loads_nothing_from_outside(recorded, live_server, screenshot):
    page = recorded
    page.goto("/docs")
    page.locator(".opblock-tag-section").first.wait_for()
    sections = page.locator("h3.opblock-tag").evaluate_all("tags => tags.map(tag => tag.dataset.tag)")
    assert [name for name in sections if name in RESOURCES] == RESOURCES, sections
    page.get_by_role("button", name="Authorize").click()
    page.locator(".auth-container h4").first.wait_for()
    schemes = [name.split()[0] for name in page.locator(".auth-container h4").all_inner_texts()]
    assert schemes[0] == "jwtAuth" and schemes[-1] == "cookieAuth", schemes  # the bearer token first
    page.locator(".auth-container").first.scroll_into_view_if_needed()
    screenshot(page, "api-docs-swagger-authorize")
    page.wait_for_load_state("networkidle")
    assert outside_requests(page, live_server) == []
    assert page.js_errors == []


def test_redoc_loads_nothing_from_outside(recorded, live_server, screenshot):
    page = recorded
    page.goto("/redoc")
    page.get_by_text("API docs by Redocly").wait_for()
    page.wait_for_load_state("networkidle")
    screenshot(page, "api-docs-redoc")
    assert outside_requests(page, live_server) == []
    assert page.js_errors == []
