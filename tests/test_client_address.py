"""The client address (issue #10): one rule (`opsportal.proxies`, TRUSTED_PROXIES) for the throttles,
the audit trail's `client_ip` and the access log; X-Forwarded-For only from trusted proxies. Sign-in
is throttled per address and per username, and a spoofed header does not get fresh attempts."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from opsportal.proxies import client_ip, parse_trusted_proxies

PASSWORD = "s3cret-pass-1"


def request_from(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "client"),
    [
        # default: no proxy trusted, the header is ignored whoever sends it
        ("", "198.51.100.4", "1.2.3.4", "198.51.100.4"),
        ("", "10.0.0.2", "1.2.3.4, 5.6.7.8", "10.0.0.2"),
        # addresses and networks: skip trusted hops from the right
        ("10.0.0.0/8", "10.0.0.2", "203.0.113.7", "203.0.113.7"),
        ("10.0.0.0/8", "10.0.0.2", "1.2.3.4, 203.0.113.7", "203.0.113.7"),  # the client's own claim is left of it
        ("10.0.0.0/8,192.168.1.5", "10.0.0.2", "203.0.113.7, 192.168.1.5", "203.0.113.7"),
        ("10.0.0.0/8", "198.51.100.4", "203.0.113.7", "198.51.100.4"),  # an untrusted peer's header is ignored
        ("10.0.0.0/8", "10.0.0.2", "10.0.0.3", "10.0.0.3"),  # all trusted: the leftmost
        ("10.0.0.0/8", "10.0.0.2", "not-an-ip, 203.0.113.7", "203.0.113.7"),
        ("10.0.0.0/8", "10.0.0.2", "garbage", "10.0.0.2"),
        ("10.0.0.0/8", "10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.0/8", "10.0.0.2", "203.0.113.7:51234", "203.0.113.7"),
        ("10.0.0.0/8", "::ffff:10.0.0.2", "203.0.113.7", "203.0.113.7"),
        # a proxy count: the client is that many hops from the right
        ("1", "10.0.0.2", "1.2.3.4, 203.0.113.7", "203.0.113.7"),
        ("2", "10.0.0.2", "1.2.3.4, 203.0.113.7, 10.9.9.9", "203.0.113.7"),
        ("1", "198.51.100.4", None, "198.51.100.4"),  # no header: the peer
        ("0", "198.51.100.4", "1.2.3.4", "198.51.100.4"),
    ],
)
def test_client_ip(settings, trusted, peer, forwarded, client):
    settings.TRUSTED_PROXIES = parse_trusted_proxies(trusted)
    assert client_ip(request_from(peer, forwarded)) == client


def test_trusted_proxies_setting_is_checked():
    assert parse_trusted_proxies("") == ()
    assert parse_trusted_proxies("2") == 2
    assert [str(n) for n in parse_trusted_proxies(" 10.0.0.0/8 , 192.168.1.5")] == ["10.0.0.0/8", "192.168.1.5/32"]
    with pytest.raises(ImproperlyConfigured, match=r"'proxy\.example\.com' is not an IP address"):
        parse_trusted_proxies("proxy.example.com")


# --------------------------------------------------------------------------- its users


@pytest.fixture
def rates(monkeypatch):
    rates = {"anon": "1000/min", "user": "1000/min", "login_ip": "3/hour", "login_username": "3/hour"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    cache.clear()
    yield rates
    cache.clear()


@pytest.mark.django_db
def test_x_forwarded_for_from_an_untrusted_peer_gets_no_fresh_budget(settings, rates):
    """issue #10: once the address was throttled, any X-Forwarded-For value got fresh attempts."""
    settings.ANONYMOUS_READ = True
    rates["anon"] = "3/min"
    client = APIClient(REMOTE_ADDR="198.51.100.4")
    statuses = [client.get("/api/v1/teams", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_budget(settings, rates):
    settings.ANONYMOUS_READ = True
    rates["anon"] = "3/min"
    settings.TRUSTED_PROXIES = parse_trusted_proxies("10.0.0.0/8")
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")
    first = [proxy.get("/api/v1/teams", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code for _ in range(4)]
    assert first == [200, 200, 200, 429]
    assert proxy.get("/api/v1/teams", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200


@pytest.mark.django_db
def test_audit_client_ip_and_access_log_use_the_same_rule(settings, api, caplog):
    api.defaults.update(REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="6.6.6.6")
    with caplog.at_level(logging.INFO, logger="opsportal.access"):
        assert api.post("/api/v1/teams", {"id": "web", "name": "Web"}, format="json").status_code == 201
    assert AuditEvent.objects.get(action="team.created").client_ip == "198.51.100.4"
    (line,) = [record for record in caplog.records if record.name == "opsportal.access"]
    assert line.client_ip == "198.51.100.4"

    settings.TRUSTED_PROXIES = parse_trusted_proxies("198.51.100.0/24")
    assert api.post("/api/v1/teams", {"id": "ops", "name": "Ops"}, format="json").status_code == 201
    assert AuditEvent.objects.filter(action="team.created").order_by("-seq")[0].client_ip == "6.6.6.6"


# --------------------------------------------------------------------------- sign-in


def sign_in(password: str, username: str = "dana", peer: str = "198.51.100.4", forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer, **({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})}
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json", **extra)


@pytest.fixture
def dana(django_user_model):
    return django_user_model.objects.create_user("dana", "dana@example.com", PASSWORD)


@pytest.mark.django_db
def test_sign_in_is_throttled_per_address_and_a_spoofed_header_does_not_bypass_it(rates, dana):
    """issue #10: a right password with a made-up X-Forwarded-For still got tokens once throttled."""
    assert [sign_in("wrong", username=f"user{n}").status_code for n in range(3)] == [401, 401, 401]
    refused = sign_in(PASSWORD, forwarded="10.1.1.1")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 3000  # the oldest failure leaves the hour-long window
    body = refused.json()
    assert body["code"] == "throttled"
    assert body["detail"].startswith("Too many sign-in attempts for this account or from this address.")
    assert "access" not in body
    assert sign_in(PASSWORD, peer="198.51.100.5").status_code == 200  # another address is not affected


@pytest.mark.django_db
def test_sign_in_is_throttled_per_username_from_any_address(rates, dana):
    statuses = [sign_in("wrong", peer=f"198.51.100.{n}").status_code for n in range(3)]
    assert statuses == [401, 401, 401]
    assert sign_in(PASSWORD, username="DANA ", peer="203.0.113.99").status_code == 429
    assert sign_in("wrong", username="someone-else", peer="203.0.113.99").status_code == 401


@pytest.mark.django_db
def test_successful_sign_ins_are_not_counted(rates, dana):
    assert [sign_in(PASSWORD).status_code for _ in range(5)] == [200] * 5
