"""API docs (DESIGN §2, §7): the OpenAPI 3 schema, Swagger UI at /docs and ReDoc at /redoc,
served entirely from this server so they work air-gapped."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.test import Client

from opsportal.api_docs import OUTSIDE_LOGO, SIDECAR_BUNDLE

pytestmark = pytest.mark.django_db


class _References(HTMLParser):
    """Every URL the page makes the browser load or follow: src=, href=, spec-url=."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.urls.extend(value for name, value in attrs if name in {"src", "href", "spec-url"} and value)


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


@pytest.fixture
def docs_client(settings) -> Client:
    """A client whose whitenoise serves static files straight from the finders (no collectstatic)."""
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    return Client()


def test_schema_is_openapi_3_json_with_format_json(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Ops Portal API"
    assert schema["info"]["version"] == django_settings.APP_VERSION


def test_schema_defaults_to_yaml(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert str(schema["openapi"]).startswith("3.")


def test_schema_is_public_even_when_anonymous_reads_are_off(client, settings):
    settings.ANONYMOUS_READ = False
    assert client.get("/api/schema/?format=json").status_code == 200


@pytest.mark.parametrize("path", ["/docs", "/docs/", "/redoc", "/redoc/"])
def test_docs_pages_are_html(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_reference_no_external_host(client, path):
    html = client.get(path).content.decode()
    urls = references(html)
    assert urls, "the page should load its UI assets"
    external = [url for url in urls if urlsplit(url).scheme or urlsplit(url).netloc not in {"", "testserver"}]
    assert external == []
    # nothing else that a browser would fetch from a CDN either
    for host in ("googleapis", "gstatic", "jsdelivr", "unpkg", "cdnjs"):
        assert host not in html


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_assets_are_served_by_this_server(docs_client, path):
    html = docs_client.get(path).content.decode()
    local = [url for url in references(html) if url.startswith("/") and not url.startswith("/api/schema/")]
    assert any(url.endswith(".js") for url in local), local
    for url in local:
        response = docs_client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert len(body) > 100, url


def test_redoc_loads_no_logo_from_a_cdn(docs_client):
    """issue #14: ReDoc's "API docs by Redocly" link drew its logo from cdn.redoc.ly."""
    html = docs_client.get("/redoc").content.decode()
    (bundle_url,) = [url for url in references(html) if url.endswith("redoc.standalone.js")]
    assert not bundle_url.startswith("/" + django_settings.STATIC_URL.lstrip("/"))  # the portal's copy
    response = docs_client.get(bundle_url)
    assert response["Content-Type"].startswith("text/javascript")
    bundle = response.content.decode()
    sidecar = (Path(finders.find(SIDECAR_BUNDLE))).read_text(encoding="utf-8")
    assert OUTSIDE_LOGO in sidecar, "the sidecar's ReDoc changed: check what it loads from outside now"
    assert OUTSIDE_LOGO not in bundle and "cdn." not in bundle
    assert re.findall(r'src:"https?://', bundle) == []
    assert len(bundle) > len(sidecar) - 100


def test_docs_point_at_the_local_schema(client):
    swagger = client.get("/docs").content.decode()
    redoc = client.get("/redoc").content.decode()
    assert '"/api/schema/"' in swagger
    assert '"/api/schema/"' in redoc


def test_swagger_ui_does_not_call_the_online_validator(client):
    html = client.get("/docs").content.decode()
    assert '"validatorUrl": null' in html
