"""`/api/v1/environments`: thin viewset; writes go through `environments.services`."""

from datetime import timedelta

from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from environments.api.schema import (
    ENVIRONMENT_VIEWSET_SCHEMA,
    FREEZE_VIEWSET_SCHEMA,
    IMPORT_SCHEMA,
    OCCURRENCES_SCHEMA,
    STATUS_SCHEMA,
)
from environments.api.serializers import (
    EnvironmentSerializer,
    EnvironmentStatusSerializer,
    EnvironmentUpdateSerializer,
    FreezeImportInputSerializer,
    FreezeOccurrenceSerializer,
    FreezeSerializer,
    FreezeUpdateSerializer,
)
from environments.filtersets import EnvironmentFilterSet
from environments.models import Environment, Freeze
from environments.selectors import environment_status, freeze_occurrences, parse_freeze_moment
from environments.services import FREEZE_SERVICES, SERVICES, freezes_import_ics
from opsportal.api.viewsets import DocumentViewSet
from opsportal.errors import ValidationFailed

MAX_OCCURRENCE_RANGE = timedelta(days=400)


@ENVIRONMENT_VIEWSET_SCHEMA
class EnvironmentViewSet(DocumentViewSet):
    """Deployment targets (development → staging → production).

    `GET …/status` shows the release running there, the latest deployments, health and any freeze.
    """

    queryset = Environment.objects.all()
    serializer_class = EnvironmentSerializer
    update_serializer_class = EnvironmentUpdateSerializer
    services = SERVICES
    filterset_class = EnvironmentFilterSet
    ordering_fields = ["order", "name", "tier", "id", "updated_at"]
    ordering = ["order", "id"]

    @STATUS_SCHEMA
    @action(detail=True, methods=["get"], url_path="status")
    def status(self, request: Request, pk: str | None = None) -> Response:
        """The release running in the environment, its last and 5 most recent deployments, health and freeze state."""
        return Response(EnvironmentStatusSerializer(environment_status(self.get_object())).data)


def _occurrence_query(params) -> dict:
    """`from`, `to`, `environment`, `team` of `GET /freezes/occurrences`, checked (400 naming each problem)."""
    errors: dict[str, list[str]] = {}
    bounds = {}
    for key in ("from", "to"):
        value = params.get(key, "")
        bounds[key] = parse_freeze_moment(value) if "\x00" not in value else None
        if bounds[key] is None:
            errors[key] = ["Required: an ISO 8601 date-time with a time zone, e.g. 2026-12-01T00:00:00Z."]
    if not errors and bounds["to"] <= bounds["from"]:
        errors["to"] = ["must be after from."]
    elif not errors and bounds["to"] - bounds["from"] > MAX_OCCURRENCE_RANGE:
        errors["to"] = [f"at most {MAX_OCCURRENCE_RANGE.days} days after from."]
    environment = None
    if env_id := params.get("environment", ""):
        environment = Environment.objects.filter(pk=env_id[:64]).first() if "\x00" not in env_id else None
        if environment is None:
            errors["environment"] = [f"Unknown environment '{env_id[:64]}'."]
    if errors:
        raise ValidationFailed(errors)
    team = params.get("team", "")[:64] or None
    return {"start": bounds["from"], "end": bounds["to"], "environment": environment, "team": team}


@FREEZE_VIEWSET_SCHEMA
class FreezeViewSet(DocumentViewSet):
    """The freeze calendar (issue #12): one-off and recurring freezes (RFC 5545 RRULE with EXDATEs, a
    duration and an IANA time zone), scoped to environments or tiers and optionally teams.

    `GET …/occurrences?from=&to=&environment=&team=` expands the calendar.
    """

    queryset = Freeze.objects.all()
    serializer_class = FreezeSerializer
    update_serializer_class = FreezeUpdateSerializer
    services = FREEZE_SERVICES
    ordering_fields = ["starts_at", "name", "id", "updated_at"]
    ordering = ["starts_at", "id"]

    @IMPORT_SCHEMA
    @action(detail=False, methods=["post"], url_path="import", filter_backends=[], pagination_class=None)
    def import_calendar(self, request: Request) -> Response:
        """Import an iCalendar file (e.g. public holidays) as freezes, all or nothing (Release Managers).
        Each event becomes a freeze; importing the same events again (by UID) updates them."""
        data = FreezeImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        content = values.pop("calendar").encode("utf-8", "surrogatepass")
        return Response(freezes_import_ics(actor=request.user, content=content, **values))

    @OCCURRENCES_SCHEMA
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def occurrences(self, request: Request) -> Response:
        """Every occurrence in `[from, to)` (at most 400 days), in order of start, with the environments it
        blocks; `environment` keeps those that block there, `team` those that block that team's releases."""
        occurrences = freeze_occurrences(**_occurrence_query(request.query_params))
        return Response(FreezeOccurrenceSerializer(occurrences, many=True).data)
