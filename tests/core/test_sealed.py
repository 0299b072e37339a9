"""Secrets Servio reads back are stored encrypted under the secret key."""

from __future__ import annotations

import pytest

from servio.core import sealed


def test_a_sealed_value_opens_to_the_plaintext_and_does_not_contain_it():
    stored = sealed.seal("s3cret-app-password")
    assert stored.startswith(sealed.PREFIX) and "s3cret" not in stored
    assert sealed.unseal(stored) == "s3cret-app-password"
    assert sealed.seal("s3cret-app-password") != stored  # a fresh IV each time


def test_empty_sealed_and_older_plain_values_pass_through():
    stored = sealed.seal("x")
    assert sealed.seal(stored) == stored
    assert sealed.seal("") == ""
    assert sealed.unseal("stored before sealing existed") == "stored before sealing existed"


def test_another_secret_key_cannot_open_it_and_says_what_to_do(settings):
    stored = sealed.seal("s3cret")
    settings.SECRET_KEY = "a-different-secret-key-" + "x" * 40
    with pytest.raises(sealed.UnreadableSecret, match="enter it again in the admin"):
        sealed.unseal(stored, what="The IMAP password of desk@example.com")


def test_a_tampered_value_is_refused():
    stored = sealed.seal("s3cret")
    tampered = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(sealed.UnreadableSecret):
        sealed.unseal(tampered)
