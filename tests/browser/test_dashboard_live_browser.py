"""The admin dashboard updates itself from the event stream (issue #11): a release submitted and a deploy
made elsewhere appear in "Pending approvals" and "Latest deployments" without reloading the page."""

from __future__ import annotations

import pytest

from environments.models import Environment
from events.stream import RECENT
from opsportal.roles import RELEASE_MANAGERS
from opsportal.testing.factories import make_standard_environments
from releases.services import release_create, release_deploy, release_submit
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pending_approvals_and_latest_deployments_follow_the_stream(page, make_staff, screenshot):
    RECENT.reset()  # the stream buffer of this process outlives the previous test's database
    author = make_staff("rm1", RELEASE_MANAGERS)
    make_staff("rm2", RELEASE_MANAGERS)
    make_standard_environments()
    log_in(page, "rm2")
    page.goto("/admin/dashboard/")
    page.wait_for_selector("#op-live[data-state=live]")
    assert "Nothing is waiting for approval." in page.locator("#pending-approvals").inner_text()

    release = release_create(actor=author, data={"name": "Live checkout", "version": "7.0.0"})
    release_submit(release=release, actor=author)
    page.wait_for_function("document.querySelector('#pending-approvals').innerText.includes('Live checkout')")
    release_deploy(release=release, environment=Environment.objects.get(pk="development"), actor=author)
    page.wait_for_selector("#latest-deployments tr[data-deployment]")
    assert "Live checkout" in page.locator("#latest-deployments").inner_text()
    screenshot(page, "dashboard-live")
    assert not page.js_errors
