"""`/api/v1/releases/{id}/evidence` and `/api/v1/evidence/public-key` (issue #13)."""

from __future__ import annotations

import base64
import json

from rest_framework import status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from dashboard.api.schema import SingleDocumentSchema
from evidence import keys
from evidence.api.schema import COLLECT_SCHEMA, EVIDENCE_SCHEMA, PUBLIC_KEY_SCHEMA
from evidence.api.serializers import EvidenceQuerySerializer
from evidence.selectors import evidence_latest
from evidence.services import evidence_collect, evidence_live
from opsportal.errors import NotFound
from releases.models import Release


def _release(pk: str) -> Release:
    release = Release.objects.filter(pk=pk).first()
    if release is None:
        raise NotFound("Not found.")
    return release


class ReleaseEvidenceViewSet(viewsets.ViewSet):
    """A release's signed evidence for auditors."""

    schema = SingleDocumentSchema()

    @EVIDENCE_SCHEMA
    def list(self, request: Request, release_pk: str) -> Response:
        """The release's evidence: the one stored when it last reached production (or was last collected on
        demand); with none stored, or with `live=true`, collected now, signed but not stored."""
        query = EvidenceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        release = _release(release_pk)
        stored = None if query.validated_data["live"] else evidence_latest(release=release)
        return Response(stored or evidence_live(release=release, actor=request.user))

    @COLLECT_SCHEMA
    def create(self, request: Request, release_pk: str) -> Response:
        """Collect, sign and store the release's evidence now (Release Managers; audited `evidence.collected`)."""
        stored = evidence_collect(release=_release(release_pk), actor=request.user)
        # The stored evidence is what the list answers from now on (until the next collection).
        location = reverse("release-evidence-list", kwargs={"release_pk": release_pk}, request=request)
        return Response(json.loads(stored.body), status=status.HTTP_201_CREATED, headers={"Location": location})


class EvidencePublicKeyViewSet(viewsets.ViewSet):
    """The Ed25519 public key that verifies release evidence: public, also without signing in."""

    schema = SingleDocumentSchema()
    permission_classes = [AllowAny]

    @PUBLIC_KEY_SCHEMA
    def list(self, request: Request) -> Response:
        """The public key (PEM and raw) and its id; evidence names the key that signed it by this id."""
        return Response(
            {
                "algorithm": "Ed25519",
                "key_id": keys.key_id(),
                "public_key_pem": keys.public_key_pem(),
                "public_key_base64": base64.b64encode(keys.public_key_raw()).decode(),
            }
        )
