"""The admin dashboard (issue #5): linked from the admin index, server-drawn charts, DORA figures, pending approvals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from dashboard.admin_charts import horizontal_bars, nice_ceiling, stacked_bars
from dashboard.admin_views import duration
from dashboard.tests.builders import deployment
from opsportal.roles import VIEWERS
from opsportal.testing.factories import make_environment, make_release, make_user
from releases.choices import DeploymentStatus

DASHBOARD = reverse("admin:dashboard")


@pytest.mark.django_db
def test_the_admin_index_links_the_dashboard(client, superuser):
    client.force_login(superuser)
    html = client.get(reverse("admin:index")).content.decode()
    assert f'href="{DASHBOARD}"' in html


@pytest.mark.django_db
def test_dashboard_shows_charts_dora_and_pending_approvals(client, superuser):
    env = make_environment("production", name="Production", tier="production")
    now = timezone.now()
    shipped = make_release(name="Shipped", version="1.0.0", status="deployed")
    deployment(env, shipped, finished=now - timedelta(hours=2))
    deployment(env, shipped, finished=now - timedelta(hours=1), status=DeploymentStatus.FAILED)
    waiting = make_release(name="Waiting", version="2.0.0", status="pending_approval")
    client.force_login(superuser)

    response = client.get(DASHBOARD)

    html = response.content.decode()
    assert response.status_code == 200
    today = now.date().isoformat()
    assert f'data-date="{today}" data-status="succeeded"' in html
    assert f'data-date="{today}" data-status="failed"' in html
    assert 'data-status="pending_approval"' in html  # releases by status
    row = html.split('data-environment="production"')[1].split("</tr>")[0]
    assert "50 %" in row  # change failure rate: 1 of 2 deploys failed
    assert "0.033 / day" in row  # one successful deploy in 30 days
    assert reverse("admin:releases_release_change", args=[waiting.pk]) in html
    assert "cdn" not in html.lower() and '<script src="http' not in html


@pytest.mark.django_db
def test_dashboard_needs_permission_to_read_releases(client):
    nobody = make_user("staff", is_staff=True)
    client.force_login(nobody)
    assert client.get(DASHBOARD).status_code == 403
    nobody.groups.add(Group.objects.get(name=VIEWERS))
    client.force_login(nobody)
    assert client.get(DASHBOARD).status_code == 200


@pytest.mark.django_db
def test_dashboard_sends_anonymous_users_to_the_login(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_bars_are_scaled_to_a_round_top():
    assert [nice_ceiling(n) for n in (0, 1, 3, 7, 10, 11, 42, 180)] == [1, 1, 5, 10, 10, 20, 50, 200]
    days = [
        {"date": date(2026, 1, 1), "total": 4, "succeeded": 3, "failed": 1},
        {"date": date(2026, 1, 2), "total": 0, "succeeded": 0, "failed": 0},
    ]
    svg = str(stacked_bars(days, [("succeeded", "Succeeded"), ("failed", "Failed")]))
    assert svg.count('class="bar"') == 2  # empty day: no bar
    assert "<title>2026-01-01: 3 succeeded</title>" in svg
    status = str(horizontal_bars([("draft", "Draft <b>", 2, "/x?a=1&b=2")]))
    assert "Draft &lt;b&gt;" in status and "/x?a=1&amp;b=2" in status


def test_durations_read_like_people_talk():
    assert [duration(s) for s in (None, 42, 600, 3600, 12000, 86400, 200000)] == [
        "—",
        "42 s",
        "10 min",
        "1 h",
        "3 h 20 min",
        "1 d",
        "2 d 7 h",
    ]
