"""Browser tests of the admin (issue #5): Playwright (Python) driving Debian's Chromium, headless,
against pytest-django's live server.

Never `playwright install`: the browser is `/usr/bin/chromium` from apt (`.ci/run` installs it
when missing). Without it these tests skip, saying so. Screenshots go to `artifacts/screenshots/`
(ignored by git).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "browser-test-password-1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's Chromium through Playwright (needs /usr/bin/chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module's tests."""
    if not CHROMIUM.exists():
        pytest.skip(f"needs {CHROMIUM} (Debian's chromium: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (requirements-dev.txt)")
    # Playwright's sync API keeps an event loop running in this thread; the test code's own ORM
    # calls (setting up data) are still plain synchronous calls, so Django may allow them here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot() -> Any:
    """`screenshot(page, "name")` saves `artifacts/screenshots/name.png` (full page)."""

    def take(page: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def ensure_role(name: str):
    """The role group with its permissions (a live-server test's database flush removes migration data)."""
    from django.contrib.auth.models import Group, Permission

    from opsportal.roles import ROLE_PERMISSIONS

    group, _ = Group.objects.get_or_create(name=name)
    for app_label, codename in ROLE_PERMISSIONS[name]:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group


@pytest.fixture
def make_staff(django_user_model) -> Any:
    def make(username: str, role: str):
        user = django_user_model.objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=True)
        user.groups.add(ensure_role(role))
        return user

    return make


def log_in(page: Any, username: str) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
