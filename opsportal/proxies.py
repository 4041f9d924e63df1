"""Who the client is: the one rule for its address (issue #10).

The throttles (`opsportal.api.throttling`), the audit trail's `client_ip` and the access log
(`opsportal.middleware`) all call `client_ip(request)`.

`X-Forwarded-For` is believed only as far as it was written by proxies we trust, set in
`TRUSTED_PROXIES` (environment variable of the same name):

- empty (the default): no proxy is trusted; the client is the peer of the connection
  (`REMOTE_ADDR`) and `X-Forwarded-For` is ignored, whoever sends it;
- a number N: exactly N proxies stand in front of the portal (e.g. `1` for one load balancer), each
  appending the address it received the request from; the client is the address N entries from
  the right of `X-Forwarded-For` + the peer — what a client writes itself is further left, unused;
- addresses and networks (`10.0.0.0/8,192.168.1.5`): the peer and each `X-Forwarded-For` entry from
  the right are skipped while they are trusted proxies; the first one that is not is the client.

An entry that is not an IP address ends the walk: the client is then the last trusted hop's peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:  # settings import this module: keep it light
    from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TrustedProxies = int | tuple[Network, ...]


def parse_trusted_proxies(value: str | int | Iterable[str] | None) -> TrustedProxies:
    """`TRUSTED_PROXIES` as a proxy count or a tuple of networks (see the module); refuses nonsense."""
    if value is None:
        return ()
    if isinstance(value, bool):
        raise ImproperlyConfigured("TRUSTED_PROXIES must be a proxy count or addresses/networks, not a boolean.")
    if isinstance(value, int):
        items: list[str] = [str(value)]
    elif isinstance(value, str):
        items = [item.strip() for item in value.split(",") if item.strip()]
    else:
        items = [str(item).strip() for item in value if str(item).strip()]
    if len(items) == 1 and items[0].isdigit():
        return int(items[0])
    networks: list[Network] = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {item!r} is not an IP address or network (e.g. 10.0.0.0/8), nor a proxy count."
            ) from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted(raw: str | int | tuple[str, ...] | None) -> TrustedProxies:
    return parse_trusted_proxies(raw)


def trusted_proxies() -> TrustedProxies:
    raw = getattr(settings, "TRUSTED_PROXIES", None)
    return _trusted(tuple(raw) if isinstance(raw, list | tuple) else raw)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:10.0.0.1 is 10.0.0.1
    return mapped or address


def client_ip(request: HttpRequest) -> str:
    """The client's address under `TRUSTED_PROXIES` (see the module); "" when unknown."""
    peer = request.META.get("REMOTE_ADDR", "") or ""
    trusted = trusted_proxies()
    if trusted == () or trusted == 0:
        return peer
    forwarded = [item for item in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if item.strip()]
    hops = [*forwarded, peer]  # nearest last
    if isinstance(trusted, int):
        # N proxies: the last N hops are theirs; the one before the first of them is the client.
        candidates = hops[-(trusted + 1) :]
        for value in candidates:  # leftmost first: the client, unless it is not an address
            address = _address(value)
            if address is not None:
                return str(address)
        return peer
    client = peer
    for value in reversed(hops):
        address = _address(value)
        if address is None:
            return client  # garbage: stop at the last hop a trusted proxy vouched for
        client = str(address)
        if not any(address in network for network in trusted):
            return client
    return client  # every hop is a trusted proxy: the leftmost is as far as we can see
