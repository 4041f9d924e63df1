"""The Ed25519 key that signs release evidence (issue #13).

`EVIDENCE_SIGNING_KEY` holds the private key: a PKCS#8 PEM (newlines may be written `\\n`) or the 32-byte
seed in base64 or hex. Unset, the seed is derived from `AUDIT_SIGNING_KEY` (HMAC-SHA256 with a fixed label):
that key is already a required secret when DEBUG is off, and as long as it is kept the evidence key stays
the same. Auditors get the public key from `GET /api/v1/evidence/public-key`; `key_id` names it in each
signature (the first 16 hex digits of the sha256 of the raw public key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DERIVATION_LABEL = b"opsportal.evidence.ed25519.v1"


def _seed(raw: str) -> bytes | None:
    for decode in (bytes.fromhex, base64.b64decode, base64.urlsafe_b64decode):
        try:
            seed = decode(raw)
        except (ValueError, binascii.Error):
            continue
        if len(seed) == 32:
            return seed
    return None


@lru_cache(maxsize=4)
def _load(raw: str, audit_key: str) -> Ed25519PrivateKey:
    if not raw:
        return Ed25519PrivateKey.from_private_bytes(
            hmac.new(audit_key.encode(), DERIVATION_LABEL, hashlib.sha256).digest()
        )
    if raw.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(raw.replace("\\n", "\n").encode(), password=None)
        except ValueError as error:
            raise ImproperlyConfigured(f"EVIDENCE_SIGNING_KEY is not a readable PEM private key: {error}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("EVIDENCE_SIGNING_KEY must be an Ed25519 private key.")
        return key
    seed = _seed(raw)
    if seed is None:
        raise ImproperlyConfigured(
            "EVIDENCE_SIGNING_KEY must be an Ed25519 private key in PEM, or its 32-byte seed in hex or base64."
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def signing_key() -> Ed25519PrivateKey:
    return _load(settings.EVIDENCE_SIGNING_KEY, settings.AUDIT_SIGNING_KEY)


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_key_pem() -> str:
    return (
        public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    )


def public_key_raw(key: Ed25519PublicKey | None = None) -> bytes:
    return (key or public_key()).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey | None = None) -> str:
    return hashlib.sha256(public_key_raw(key)).hexdigest()[:16]


def sign(message: bytes) -> str:
    """The Ed25519 signature of `message`, base64."""
    return base64.b64encode(signing_key().sign(message)).decode()
