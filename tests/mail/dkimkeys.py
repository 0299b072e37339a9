"""DKIM keys for the tests: an RSA key made in the test, and the DNS TXT lookup dkimpy calls,
answering from what the test published (SERVIO_MAIL_DKIM_DNSFUNC points here; no network)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PUBLISHED: dict[bytes, bytes] = {}
LOOKUP = "tests.mail.dkimkeys.lookup"


def lookup(name: bytes, timeout: int = 5) -> bytes | None:
    """The TXT record at `name` (e.g. b"sel._domainkey.provider.example.")."""
    return PUBLISHED.get(name)


@dataclass(frozen=True)
class SigningKey:
    private_pem: bytes
    record: bytes  # the DNS TXT record with the public key

    def publish(self, selector: str, domain: str) -> None:
        PUBLISHED[f"{selector}._domainkey.{domain}.".encode()] = self.record

    def sign(self, raw: bytes, *, domain: str, selector: str = "sel", **options) -> bytes:
        """`raw` with a DKIM-Signature of `domain` prepended."""
        headers = options.pop("include_headers", [b"from", b"to", b"subject", b"date"])
        signature = dkim.sign(
            raw,
            selector.encode(),
            domain.encode(),
            self.private_pem,
            include_headers=headers,
            **options,
        )
        return signature + raw


def make_key() -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SigningKey(private_pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der))
