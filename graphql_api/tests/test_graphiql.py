"""GraphiQL: served from the portal's own static files (no CDN), in DEBUG or to signed-in staff."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
import strawberry
from django.contrib.staticfiles import finders
from django.test import Client

from opsportal.testing.factories import make_user

pytestmark = pytest.mark.django_db


def _page(client: Client):
    return client.get("/graphql", HTTP_ACCEPT="text/html")


def test_graphiql_is_for_staff_when_debug_is_off(settings):
    settings.DEBUG = False
    assert _page(Client()).status_code == 404
    client = Client()
    client.force_login(make_user("plain"))
    assert _page(client).status_code == 404
    client.force_login(make_user("staff", is_staff=True))
    assert _page(client).status_code == 200


def test_graphiql_loads_only_local_assets_whose_hashes_match(settings):
    settings.DEBUG = True
    html = _page(Client()).content.decode()
    assert "unpkg" not in html and "cdn" not in html.lower()
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"\s+integrity="(sha384-[^"]+)"', html)
    assert len(assets) == 7
    for path, integrity in assets:
        found = finders.find(path)
        assert found, path
        digest = base64.b64encode(hashlib.sha384(Path(found).read_bytes()).digest()).decode()
        assert integrity == f"sha384-{digest}", path
    assert "ws://testserver:8082/graphql" in html


# The last line each of these files had when published (dropped here: source maps are not shipped).
DROPPED_LAST_LINE = {
    "graphiql.min.js": b"\n//# sourceMappingURL=graphiql.min.js.map",
    "graphiql.min.css": b"\n/*# sourceMappingURL=graphiql.min.css.map*/",
}


def test_the_vendored_assets_are_the_published_ones_strawberry_pins():
    page = (Path(strawberry.__file__).parent / "static" / "graphiql.html").read_text(encoding="utf-8")
    published = dict(re.findall(r'(?:src|href)="https://unpkg.com/[^"]*/([^/"]+)"\s+integrity="(sha384-[^"]+)"', page))
    names = {"index.umd.js": "plugin-explorer.umd.js", "style.css": "plugin-explorer.css"}
    assert len(published) == 7
    for name, integrity in published.items():
        local = names.get(name, name)
        content = Path(finders.find(f"graphql_api/graphiql/{local}")).read_bytes() + DROPPED_LAST_LINE.get(local, b"")
        assert integrity == "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode(), local
