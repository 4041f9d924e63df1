"""API tokens in the backoffice (issue #10): created (the secret shown once) and revoked through the
services, by their owner or a Release Manager; never edited or deleted."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from opsportal.roles import RELEASE_MANAGERS
from opsportal.testing.admin import messages_of
from opsportal.testing.factories import make_team, make_user
from tokens.models import ApiToken
from tokens.services import api_token_create

pytestmark = pytest.mark.django_db

ADD = reverse("admin:tokens_apitoken_add")
LIST = reverse("admin:tokens_apitoken_changelist")


@pytest.fixture
def erin(erin):
    """The payments team's Engineer, with access to the admin."""
    erin.is_staff = True
    erin.save()
    return erin


def test_staff_create_their_own_token_and_see_the_secret_once(client, erin):
    client.force_login(erin)
    form = client.get(ADD)
    assert form.status_code == 200
    assert "owner" not in form.context["adminform"].form.fields  # an Engineer makes tokens for themselves
    response = client.post(ADD, {"name": "ci", "scopes": ["read", "deploy"], "teams": ["payments"]})
    assert response.status_code == 200, response.context["adminform"].form.errors
    (secret,) = re.findall(r"opt_[A-Za-z0-9_-]{43}", response.content.decode())
    token = ApiToken.objects.get()
    assert (token.owner, token.scopes, token.teams) == (erin, ["read", "deploy"], ["payments"])
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in client.get(reverse("admin:tokens_apitoken_change", args=[token.pk])).content.decode()
    assert AuditEvent.objects.filter(action="api_token.created", actor="erin", object_id=token.pk).exists()


def test_a_refused_token_shows_the_reason_on_the_form(client, erin):
    make_team(id="billing", name="Billing")
    client.force_login(erin)
    response = client.post(ADD, {"name": "ci", "scopes": ["deploy"], "teams": ["billing"]})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"teams": ["'erin' is not a member of: billing."]}
    assert not ApiToken.objects.exists()


def test_staff_see_and_revoke_their_own_tokens_release_managers_all(client, erin):
    rita = make_user("rita", RELEASE_MANAGERS, is_staff=True)
    mine, _ = api_token_create(actor=erin, name="mine", scopes=["read"])
    theirs, _ = api_token_create(actor=rita, name="theirs", scopes=["read"])
    client.force_login(erin)
    assert [t.name for t in client.get(LIST).context["cl"].result_list] == ["mine"]
    response = client.post(LIST, {"action": "revoke_selected", "_selected_action": [mine.pk, theirs.pk]}, follow=True)
    assert "Revoked 1 token(s)." in messages_of(response)
    assert ApiToken.objects.get(pk=mine.pk).revoked_by == "erin"
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None  # not erin's: not even in her list

    client.force_login(rita)
    assert {t.name for t in client.get(LIST).context["cl"].result_list} == {"mine", "theirs"}
    client.post(LIST, {"action": "revoke_selected", "_selected_action": [theirs.pk]})
    assert ApiToken.objects.get(pk=theirs.pk).revoked_by == "rita"
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 2


def test_a_release_manager_creates_a_token_for_a_pipeline_user(client, erin):
    rita = make_user("rita", RELEASE_MANAGERS, is_staff=True)
    client.force_login(rita)
    response = client.post(
        ADD, {"name": "payments ci", "owner": erin.pk, "scopes": ["report_deployments"], "teams": ["payments"]}
    )
    assert response.status_code == 200, response.context["adminform"].form.errors
    token = ApiToken.objects.get()
    assert (token.owner, token.created_by) == (erin, "rita")


def test_tokens_are_never_edited_or_deleted_here(client, erin):
    token, _ = api_token_create(actor=erin, name="ci", scopes=["read"])
    client.force_login(erin)
    change = reverse("admin:tokens_apitoken_change", args=[token.pk])
    assert client.post(change, {"name": "renamed"}).status_code == 403
    assert client.post(reverse("admin:tokens_apitoken_delete", args=[token.pk]), {"post": "yes"}).status_code == 403
    assert ApiToken.objects.get().name == "ci"
