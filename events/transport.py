"""Sending one webhook: Standard Webhooks signatures, the SSRF guard, one HTTP POST with a deadline.

- Signatures: `webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
  "id.timestamp.body">`), made by the `standardwebhooks` package; during a secret rotation both the new
  and the previous secret sign (space-separated), so a receiver with either verifies.
- SSRF guard: only `http`/`https`, no credentials in the URL; the host is resolved and every address it
  resolves to must be public — no private, loopback, link-local, multicast, reserved or unspecified
  address — unless `OPSPORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS` is on (then only multicast and unspecified
  stay refused). The connection goes to the address that was checked (no second lookup a DNS rebinding
  could answer differently), with the host name kept for `Host` and TLS (SNI, certificate check).
- One POST, no redirects followed (a 3xx is a failure), `OPSPORTAL_WEBHOOK_TIMEOUT_SECONDS` for the whole
  exchange; the response body is read up to 64 KiB and kept as a 1 KiB excerpt.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from standardwebhooks.webhooks import Webhook

USER_AGENT = "OpsPortal-Webhooks/1.0 (+https://www.standardwebhooks.com)"
READ_LIMIT = 64 * 1024
EXCERPT_CHARS = 1024


class UnsafeTarget(ValueError):
    """The URL may not be called (scheme, credentials, or an address the SSRF guard refuses)."""


def check_url(url: str) -> SplitResult:
    """The URL's parts, or `UnsafeTarget` for what is never allowed (before any DNS lookup)."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as error:
        raise UnsafeTarget(f"Not a valid URL: {error}.") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("Only http and https URLs can receive webhooks.")
    if not hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeTarget("Credentials in the URL are not allowed; authenticate with the webhook signature.")
    try:
        parts.port  # noqa: B018 - raises on an invalid port
    except ValueError as error:
        raise UnsafeTarget(f"Invalid port: {error}.") from None
    return parts


def address_refusal(address: str, *, allow_private: bool | None = None) -> str | None:
    """Why the SSRF guard refuses this IP address (None: allowed)."""
    allow = settings.OPSPORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS if allow_private is None else allow_private
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast:
        return f"{ip} is not a unicast address"
    if allow or ip.is_global:
        return None
    kind = (
        "a loopback"
        if ip.is_loopback
        else "a link-local"
        if ip.is_link_local
        else "a private"
        if ip.is_private
        else "a reserved"
    )
    return f"{ip} is {kind} address (set OPSPORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow private targets)"


def literal_refusal(url: str) -> str | None:
    """For a URL whose host is an IP literal or `localhost`: why it is refused (checked again after DNS
    resolution at every delivery; this only catches the obvious at subscription time)."""
    host = check_url(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return None if settings.OPSPORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS else address_refusal("127.0.0.1")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return address_refusal(host)


def resolve(parts: SplitResult) -> str:
    """The address to connect to: the host's first address, once every address it resolves to passed
    the guard (`UnsafeTarget` otherwise)."""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise UnsafeTarget(f"Cannot resolve {parts.hostname}: {error}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        refusal = address_refusal(address)
        if refusal:
            raise UnsafeTarget(f"{parts.hostname} resolves to {refusal}.")
    if not addresses:
        raise UnsafeTarget(f"{parts.hostname} has no address.")
    return addresses[0]


def sign(*, msg_id: str, body: str, secrets: list[str], at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for `body`, signed with each of `secrets` (new first)."""
    signatures = " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


@dataclass
class Outcome:
    """What one attempt came to."""

    status_code: int | None = None
    duration_ms: float = 0.0
    response_excerpt: str = ""
    error: str = ""
    retry_after: float | None = None  # seconds, from a `Retry-After` header
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to `address` while speaking to `host` (the `Host` header)."""

    def __init__(self, host: str, port: int | None, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to `address`, with SNI and the certificate checked for `host`."""

    def __init__(self, host: str, port: int | None, *, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(url: str, *, body: str, headers: dict[str, str], timeout: float | None = None) -> Outcome:
    """POST `body` to `url` (guarded, see the module docstring); never raises for network trouble."""
    timeout = float(timeout or settings.OPSPORTAL_WEBHOOK_TIMEOUT_SECONDS)
    started = time.monotonic()
    outcome = Outcome()
    connection: http.client.HTTPConnection | None = None
    try:
        parts = check_url(url)
        address = resolve(parts)
        connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        connection = connection_class(parts.hostname, parts.port, address=address, timeout=timeout)
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        data = body.encode()
        connection.request(
            "POST",
            target,
            body=data,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Content-Length": str(len(data)),
                **headers,
            },
        )
        response = connection.getresponse()
        outcome.status_code = response.status
        outcome.headers = {key.lower(): value for key, value in response.getheaders()}
        outcome.retry_after = parse_retry_after(response.getheader("Retry-After"))
        chunks: list[bytes] = []
        size = 0
        while size < READ_LIMIT:
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"no complete answer within {timeout:g} s")
            chunk = response.read1(min(8192, READ_LIMIT - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        outcome.response_excerpt = b"".join(chunks).decode("utf-8", errors="replace")[:EXCERPT_CHARS]
    except UnsafeTarget as error:
        outcome.error = f"refused: {error}"
    except TimeoutError as error:
        outcome.error = f"timeout: {error or f'no answer within {timeout:g} s'}"
    except (OSError, http.client.HTTPException, ssl.SSLError) as error:
        outcome.error = f"{type(error).__name__}: {error}"[:500]
    finally:
        if connection is not None:
            connection.close()
        outcome.duration_ms = round((time.monotonic() - started) * 1000, 1)
    return outcome
