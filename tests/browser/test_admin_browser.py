"""The backoffice in a real browser (issue #5): log in, filter releases, edit a task in the feature
form, four-eyes approval with its audit entry, and the dashboard. Screenshots: artifacts/screenshots/."""

from __future__ import annotations

import copy
import re
from datetime import date

import pytest

from environments.models import Environment
from opsportal.roles import RELEASE_MANAGERS
from opsportal.testing.factories import make_standard_environments, make_team, make_workflow
from releases.examples import SAMPLE_FEATURES
from releases.models import Release
from releases.services import release_create, release_deploy, release_rollback, release_submit
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(make_staff):
    """Two release managers, environments, a team, a workflow and releases in several states."""
    author = make_staff("rm1", RELEASE_MANAGERS)
    reviewer = make_staff("rm2", RELEASE_MANAGERS)
    make_standard_environments()
    team = make_team(id="payments", name="Payments")
    workflow = make_workflow(id="standard", name="Standard")
    checkout = release_create(
        actor=author,
        data={
            "name": "Checkout",
            "version": "2.1.0",
            "description": "New checkout",
            "team": team.pk,
            "workflow": workflow.pk,
            "target_date": date(2026, 12, 1),
            "features": copy.deepcopy(SAMPLE_FEATURES),
        },
    )
    release_submit(release=checkout, actor=author)
    search = release_create(actor=reviewer, data={"name": "Search", "version": "1.4.0", "team": team.pk})
    release_deploy(release=search, environment=Environment.objects.get(pk="development"), actor=reviewer)
    mobile = release_create(actor=reviewer, data={"name": "Mobile app", "version": "0.9.0"})
    release_deploy(release=mobile, environment=Environment.objects.get(pk="development"), actor=reviewer)
    release_rollback(
        release=mobile, environment=Environment.objects.get(pk="development"), actor=reviewer, reason="Crash on start"
    )
    return {"author": author, "reviewer": reviewer, "checkout": checkout}


def rows(page) -> list[str]:
    return page.locator("#result_list tbody tr th a").all_inner_texts()


def test_log_in_and_filter_the_release_list(page, world, screenshot):
    log_in(page, "rm2")
    page.locator("#content-main #releases-release").get_by_role("link", name="Releases", exact=True).click()
    page.wait_for_selector("#result_list")
    assert sorted(rows(page)) == ["Checkout", "Mobile app", "Search"]

    page.locator("#changelist-filter").get_by_role("link", name="Pending approval").click()
    page.wait_for_url(re.compile(r"status__exact=pending_approval"))
    assert rows(page) == ["Checkout"]
    assert page.locator("#result_list .op-badge").first.inner_text().lower() == "pending approval"

    page.locator("#changelist-filter").get_by_role("link", name="All").first.click()
    page.locator("#changelist-filter").get_by_role("link", name="Development").click()
    page.wait_for_url(re.compile(r"deployed_to=development"))
    assert sorted(rows(page)) == ["Mobile app", "Search"]  # Mobile app reached it, then was rolled back
    page.locator("#changelist-filter").get_by_role("link", name="All").last.click()
    page.fill("#searchbar", "checkout")
    page.press("#searchbar", "Enter")
    page.wait_for_url(re.compile(r"q=checkout"))
    assert rows(page) == ["Checkout"]
    page.goto("/admin/releases/release/")
    screenshot(page, "release-list")
    assert not page.js_errors


def test_change_a_task_status_in_the_feature_form(page, world, screenshot):
    checkout = world["checkout"]
    revision = Release.objects.get(pk=checkout.pk).revision
    log_in(page, "rm2")
    page.goto(f"/admin/releases/release/{checkout.pk}/change/")
    task_status = page.locator('select[name="rjf§0§tasks§1§status"]')  # the "API" task, drawn by django-jsonform
    assert task_status.input_value() == "todo"

    task_status.select_option("done")
    screenshot(page, "release-form")
    page.click('input[name="_continue"]')

    assert "was changed successfully" in page.locator(".messagelist").inner_text()
    checkout.refresh_from_db()
    assert checkout.features[0]["tasks"][1] == {"title": "API", "status": "done", "assignee": ""}
    assert checkout.revision == revision + 1
    assert page.locator('select[name="rjf§0§tasks§1§status"]').input_value() == "done"
    assert not page.js_errors


def test_approval_needs_someone_other_than_the_creator(page, world, screenshot):
    checkout = world["checkout"]
    change_url = f"/admin/releases/release/{checkout.pk}/change/"

    # The creator is a release manager, but four eyes: refused with the reason, no error page.
    log_in(page, "rm1")
    page.goto(change_url)
    page.click("a.op-lifecycle[data-action=approve]")
    page.click("#lifecycle-form input[type=submit]")
    page.wait_for_url(re.compile(re.escape(change_url) + "$"))
    assert "someone else must approve it (four eyes)" in page.locator(".messagelist .error").inner_text()
    assert Release.objects.get(pk=checkout.pk).status == "pending_approval"

    page.locator("#logout-form button").click()
    log_in(page, "rm2")
    page.goto(change_url)
    page.click("a.op-lifecycle[data-action=approve]")
    page.fill("#id_comment", "Looks good")
    page.click("#lifecycle-form input[type=submit]")
    page.wait_for_url(re.compile(re.escape(change_url) + "$"))

    assert "Checkout (2.1.0) is approved." in page.locator(".messagelist .success").inner_text()
    assert page.locator(".field-status_badge .op-badge").inner_text().lower() == "approved"
    history = page.locator(".field-audit_history table")
    approved_row = history.locator("tr", has_text="release.approved")
    assert "rm2" in approved_row.inner_text()
    assert "Looks good" in approved_row.inner_text()
    screenshot(page, "release-page")
    assert Release.objects.get(pk=checkout.pk).status == "approved"
    assert not page.js_errors


def test_open_the_dashboard_from_the_admin_index(page, world, screenshot):
    log_in(page, "rm2")
    page.click("#opsportal-dashboard-link a.section")
    page.wait_for_url(re.compile(r"/admin/dashboard/$"))

    assert page.locator("h1").inner_text() == "Release dashboard"
    assert page.locator("#deployments-per-day svg rect.bar").count() >= 1
    assert page.locator("#releases-by-status svg rect.bar").count() >= 1
    assert page.locator("#dora tbody tr").count() == 3  # development, staging, production
    pending = page.locator("#pending-approvals")
    assert "Checkout" in pending.inner_text()
    pending.get_by_role("link", name="Checkout").click()
    page.wait_for_url(re.compile(r"/admin/releases/release/.+/change/$"))
    page.go_back()
    screenshot(page, "dashboard")
    assert not page.js_errors
