"""Conditional GET (issue #18): polling what did not change costs neither a query of the data nor a
serialization.

- A detail carries the `ETag` of its revision (the one `If-Match` takes), stamped with the versions of
  the other collections it shows (a release: deployments and environments); `If-None-Match` with it
  answers 304 while both are current.
- A list carries a weak `ETag` derived from the versions of the collections it shows
  (`opsportal.models.CollectionVersion`, bumped inside the unit of work of every change), the request's
  URL (page, filters) and the representation; `If-None-Match` with it answers 304 before the list is read.
- Both carry `Cache-Control: private, no-cache`: clients and caches keep them, and revalidate each time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from opsportal.services import collection_versions

CACHE_CONTROL = "private, no-cache"
# What a read request may ask the versions of (its user's, its list's, its detail's): read together, once.
READ_PATH_COLLECTIONS = ("user", "group", "team", "release", "deployment", "environment", "audit")


def request_versions(request: Any, names: Sequence[str]) -> dict[str, tuple[int, Any]]:
    """`collection_versions(names)`, read once per request (one query for the authentication's stamp and the
    response's ETag). Read before the response's data, an ETag can only be older than the data it goes with:
    the next `If-None-Match` then gets a 200, never a wrong 304."""
    if request is None:  # outside a request (a direct call)
        return collection_versions(names)
    raw = getattr(request, "_request", request)
    memo = getattr(raw, "_opsportal_versions", None)
    if memo is None or any(name not in memo for name in names):
        memo = {**(memo or {}), **collection_versions(tuple(dict.fromkeys((*names, *READ_PATH_COLLECTIONS))))}
        raw._opsportal_versions = memo
    return {name: memo[name] for name in names}


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def if_none_match(request: Request, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2; `*` names any)."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = _tags(header)
    return "*" in tags or etag.removeprefix("W/") in tags


def list_etag(request: Request, collections: Sequence[str], versions: dict[str, tuple[int, Any]]) -> str:
    """The weak ETag of a list: its collections' `versions` (`collection_versions`), its URL and the
    representation asked for."""
    renderer = getattr(request, "accepted_media_type", "") or ""
    basis = "|".join(
        [
            request.get_full_path(),
            request.get_host(),
            renderer,
            *(f"{name}={versions[name][0]}" for name in collections),
        ]
    )
    return f'W/"{hashlib.sha256(basis.encode()).hexdigest()[:24]}"'


def not_modified(etag: str) -> Response:
    return cacheable(Response(status=status.HTTP_304_NOT_MODIFIED), etag)


def cacheable(response: Response, etag: str | None = None) -> Response:
    if etag is not None:
        response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response
