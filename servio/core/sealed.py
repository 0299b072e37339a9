"""Secrets Servio must read back (a mail server's password), encrypted at rest.

Fernet (AES-CBC with an HMAC, from the `cryptography` package) under a key derived with HKDF from
SERVIO_SECRET_KEY, so a copy of the database or a backup alone does not reveal them. A sealed
value starts with `PREFIX`; values stored before sealing existed are read as they are (a data
migration seals them). If the secret key changes, sealed values cannot be read any more: the
error says to enter them again.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "sealed:v1:"


class UnreadableSecret(ValueError):
    """A sealed value that the current secret key cannot open."""


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"servio sealed secrets v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(plaintext: str) -> str:
    """The value to store; empty and already sealed values are returned as they are."""
    if not plaintext or is_sealed(plaintext):
        return plaintext
    token = _fernet(settings.SECRET_KEY).encrypt(plaintext.encode())
    return PREFIX + token.decode("ascii")


def unseal(stored: str, *, what: str = "The stored secret") -> str:
    """The plaintext of a stored value (one stored before sealing existed is returned as is)."""
    if not is_sealed(stored):
        return stored
    try:
        return _fernet(settings.SECRET_KEY).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise UnreadableSecret(
            f"{what} was encrypted under a different SERVIO_SECRET_KEY and cannot be read; "
            "enter it again in the admin."
        ) from exc
