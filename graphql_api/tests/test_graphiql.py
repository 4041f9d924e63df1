"""GraphiQL: served from the portal's own static files (no CDN), in DEBUG or to signed-in staff."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from pathlib import Path

import pytest
import strawberry
from django.contrib.staticfiles import finders
from django.test import Client

from graphql_api.graphiql import GRAPHIQL_JS_GZ
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


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _sri(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def test_graphiql_loads_only_local_assets_whose_hashes_match(settings):
    """What a browser does: fetch each asset from this server (gzip accepted, as browsers do), decode it, and
    refuse it unless it matches the `integrity` hash."""
    settings.DEBUG = True
    settings.WHITENOISE_USE_FINDERS = True  # whitenoise serves static files from the finders, no collectstatic
    settings.WHITENOISE_AUTOREFRESH = True
    client = Client()
    html = _page(client).content.decode()
    assert "unpkg" not in html and "cdn" not in html.lower()
    assets = re.findall(r'(?:src|href)="(/[^"]+)"\s+integrity="(sha384-[^"]+)"', html)
    assert len(assets) == 7
    assert sum(url.startswith("/static/graphql_api/graphiql/") for url, _ in assets) == 6
    for url, integrity in assets:
        response = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert response.status_code == 200, url
        body = _body(response)
        if response.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        assert integrity == _sri(body), url
    assert "ws://testserver:8082/graphql" in html


def _script_url(client: Client) -> str:
    (url,) = re.findall(r'src="(/graphql/[^"]+)"', _page(client).content.decode())
    return url


def test_graphiql_js_is_sent_gzip_encoded_and_cached_until_it_changes(settings):
    """The 3.5 MB script goes out as the committed 0.7 MB gzip copy; the browser decodes it."""
    settings.DEBUG = True
    client = Client()
    url = _script_url(client)
    assert url.startswith("/graphql/graphiql.min.js?v=")
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert response["Content-Type"].startswith("text/javascript")
    assert "Accept-Encoding" in response["Vary"]
    assert "max-age=31536000" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert len(response.content) < 1024 * 1024
    script = gzip.decompress(response.content)
    assert len(script) > 3 * 1024 * 1024

    again = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert "Accept-Encoding" in again["Vary"]

    # a client that does not take gzip (none named, or gzip refused) gets the decoded script, its own ETag
    for accept in ("", "identity", "gzip;q=0, br", "*;q=0"):
        plain = client.get(url, HTTP_ACCEPT_ENCODING=accept)
        assert plain.status_code == 200, accept
        assert "Content-Encoding" not in plain, accept
        assert plain.content == script, accept
        assert plain["ETag"] != response["ETag"]
    assert client.get(url, HTTP_ACCEPT_ENCODING="*").get("Content-Encoding") == "gzip"
    assert client.head(url, HTTP_ACCEPT_ENCODING="gzip").status_code == 200
    assert client.post(url).status_code == 405


def test_graphiql_js_is_for_staff_when_debug_is_off(settings):
    settings.DEBUG = True
    url = _script_url(Client())
    settings.DEBUG = False
    assert Client().get(url).status_code == 404
    client = Client()
    client.force_login(make_user("plain"))
    assert client.get(url).status_code == 404
    client.force_login(make_user("staff", is_staff=True))
    assert client.get(url, HTTP_ACCEPT_ENCODING="gzip").status_code == 200


def _vendored(name: str) -> bytes:
    """A vendored file as published, minus its dropped last line; `graphiql.min.js` from its gzip copy."""
    if name == "graphiql.min.js":
        return gzip.decompress(GRAPHIQL_JS_GZ.read_bytes())
    return Path(finders.find(f"graphql_api/graphiql/{name}")).read_bytes()


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
        assert integrity == _sri(_vendored(local) + DROPPED_LAST_LINE.get(local, b"")), local


def test_the_gzip_copy_holds_no_name_or_time():
    """Made with `gzip -n -9` (README): redoing it from the same script gives the same bytes."""
    header = GRAPHIQL_JS_GZ.read_bytes()[:10]
    assert header[:3] == b"\x1f\x8b\x08"  # gzip, deflate
    assert header[4:8] == b"\0\0\0\0", "a timestamp inside"
    assert not header[3] & 0x08, "a file name inside"
