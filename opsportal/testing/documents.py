"""What every document API (environments, teams, workflows) promises, checked once.

An app's tests subclass `DocumentAPIContract`, say where the API is, how to make a stored
document and what a valid create and change look like, and inherit the checks (STYLE: "one API
test declares the model, the create data … and inherits the checks"):

    class TestTeamAPIContract(DocumentAPIContract):
        url, what = "/api/v1/teams", "teams"
        services = SERVICES  # from teams.services
        create_data, change_data = {"name": "Mobile Team"}, {"description": "iOS and Android"}

        def make(self):
            return make_team()
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from audit.auth_signals import OBJECT_TYPES as AUTH_OBJECT_TYPES
from audit.models import AuditEvent
from opsportal.documents import DocumentServices
from opsportal.errors import Forbidden
from opsportal.roles import ENGINEERS, RELEASE_MANAGERS, VIEWERS
from opsportal.testing.factories import client_for, make_user

OWN_TABLES = ("environments_", "releases_", "teams_", "workflows_", "audit_")


def _document_events():
    """The audit trail without the events of the test's own users and groups (audited too, issue #10)."""
    return AuditEvent.objects.exclude(object_type__in=AUTH_OBJECT_TYPES)


def model_queries(captured: CaptureQueriesContext) -> list[str]:
    """The queries on Ops Portal's own collections (not the throttle cache, sessions…)."""
    return [q["sql"] for q in captured.captured_queries if any(table in q["sql"] for table in OWN_TABLES)]


class DocumentAPIContract:
    """Listing, 404s, and who may create, change and delete (Release Managers and superusers only)."""

    url: str  # e.g. "/api/v1/teams"
    what: str  # as in "Managing teams needs the Release Managers role."
    services: DocumentServices
    create_data: dict[str, Any]  # a valid create request (the id is the slug of the name)
    change_data: dict[str, Any]  # a valid PATCH request that changes something

    def make(self) -> models.Model:
        """A stored document (with embedded documents where it has them)."""
        raise NotImplementedError

    def _as_keyword(self, document: models.Model) -> dict[str, models.Model]:
        return {document._meta.model_name: document}

    def _snapshot(self, document: models.Model) -> tuple[Any, ...]:
        stored = type(document).objects.filter(pk=document.pk).first()
        return None if stored is None else (stored.revision, stored.name)

    def test_list_query_count_does_not_grow_with_page_size(self, api):
        for _ in range(60):
            self.make()
        counts = {}
        for size in (5, 50):
            with CaptureQueriesContext(connection) as captured:
                response = api.get(self.url, {"page_size": size})
            assert response.status_code == 200
            assert len(response.json()["results"]) == size
            counts[size] = len(model_queries(captured))
        assert counts[5] == counts[50] == 2  # count + page

    def test_unknown_id_is_a_404_envelope(self, api):
        response = api.get(f"{self.url}/nothing-here")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    @pytest.mark.parametrize("role", [ENGINEERS, VIEWERS])
    def test_only_release_managers_create_change_and_delete(self, role):
        document = self.make()
        before = self._snapshot(document)
        client = client_for(make_user("someone", role))
        detail = f"{self.url}/{document.pk}"
        for response in (
            client.post(self.url, self.create_data, format="json"),
            client.patch(detail, self.change_data, format="json"),
            client.put(detail, {**self.create_data, "revision": document.revision}, format="json"),
            client.delete(detail),
        ):
            assert response.status_code == 403
            assert response.json() == {
                "code": "role_required",
                "detail": f"Managing {self.what} needs the Release Managers role.",
                "required_role": "Release Managers",
            }
        assert self._snapshot(document) == before
        assert type(document).objects.count() == 1
        assert not _document_events().exists()
        assert client.get(detail).status_code == 200  # reading stays open to every role

    def test_a_release_manager_creates_changes_and_deletes(self):
        client = client_for(make_user("rm", RELEASE_MANAGERS))
        created = client.post(self.url, self.create_data, format="json")
        assert created.status_code == 201, created.json()
        assert created["Location"].endswith(f"{self.url}/{created.json()['id']}")
        changed = client.patch(created["Location"], self.change_data, format="json")
        assert changed.status_code == 200, changed.json()
        assert changed.json()["revision"] == 2
        assert client.delete(created["Location"]).status_code == 204
        assert client.get(created["Location"]).status_code == 404
        actions = [(e.actor, e.action.split(".")[1]) for e in _document_events().order_by("seq")]
        assert actions == [("rm", "created"), ("rm", "updated"), ("rm", "deleted")]

    def test_an_inactive_superuser_cannot_write(self, django_user_model):
        ghost = django_user_model.objects.create_superuser("ghost", "ghost@example.com", "ghost-password-123")
        ghost.is_active = False
        ghost.save()
        response = client_for(ghost).post(self.url, self.create_data, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "role_required"

    @pytest.mark.parametrize("who", ["nobody", "anonymous", ENGINEERS, VIEWERS])
    def test_services_refuse_callers_without_the_role(self, who):
        """The admin and other services call these directly: the check is in the service, not the view."""
        actor = None if who == "nobody" else AnonymousUser() if who == "anonymous" else make_user("caller", who)
        document = self.make()
        before = self._snapshot(document)
        with pytest.raises(Forbidden) as create:
            self.services.create(actor=actor, data=self.create_data)
        with pytest.raises(Forbidden):
            self.services.update(**self._as_keyword(document), actor=actor, data=self.change_data)
        with pytest.raises(Forbidden):
            self.services.delete(**self._as_keyword(document), actor=actor)
        assert create.value.code == "role_required"
        assert self._snapshot(document) == before
        assert not _document_events().exists()
