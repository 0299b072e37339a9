"""Sign-in throttles (issue 12, item 8): one password tried on many accounts from one address
(spraying) is paused, failures on one account from anywhere slow it down progressively but never
lock its owner out for long, unknown accounts behave like real ones, and the admin's login is
covered the same way. Pauses and failures are in the security log."""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid

import pytest
import time_machine
from django.test import Client

from servio.security.models import SecurityEvent
from tests.conftest import require_component
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind
START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
RITA = "rita@acme.example"
CSRF = re.compile(r"\b[A-Za-z0-9]{64}\b")  # the page's CSRF tokens, different each time


def attempt(email: str, password: str = "guess", *, address: str, admin: bool = False):  # noqa: S107
    url = "/admin/login/?next=/admin/" if admin else "/login/"
    return Client().post(url, {"username": email, "password": password}, REMOTE_ADDR=address)


def signed_in(response) -> bool:
    return response.status_code == 302


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


# --- spraying: one address, many accounts -----------------------------------------------------


@pytest.mark.parametrize("admin", [False, True], ids=["login", "admin-login"])
def test_one_address_trying_many_accounts_is_paused(personas, settings, clock, admin):
    spray = "198.51.100.9"
    for n in range(settings.SERVIO_LOGIN_ADDRESS_FAILURE_LIMIT):
        # Real and unknown accounts alike, each tried once: no per-account limit is reached.
        victim = RITA if n == 0 else f"user{n}@acme.example"
        assert attempt(victim, address=spray, admin=admin).status_code == 200
    refused = attempt("admin@provider.example", PASSWORD, address=spray, admin=admin)
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(settings.SERVIO_LOGIN_COOLOFF_SECONDS)
    assert "Too many failed sign-ins from your network address; try again in 15 minutes" in (
        page(refused)
    )
    # Another address is not affected; the sprayed address is free after the cool-off.
    assert signed_in(
        attempt("admin@provider.example", PASSWORD, address="203.0.113.5", admin=admin)
    )
    clock.shift(settings.SERVIO_LOGIN_COOLOFF_SECONDS + 1)
    assert signed_in(attempt("admin@provider.example", PASSWORD, address=spray, admin=admin))


def test_signing_in_to_ones_own_account_does_not_reset_the_address_count(personas, settings, clock):
    spray = "198.51.100.9"
    for n in range(settings.SERVIO_LOGIN_ADDRESS_FAILURE_LIMIT - 1):
        attempt(f"user{n}@acme.example", address=spray)
        if n % 4 == 0:
            assert signed_in(attempt("carl@acme.example", PASSWORD, address=spray))
    attempt("user99@acme.example", address=spray)
    assert attempt(RITA, PASSWORD, address=spray).status_code == 429


# --- one account from anywhere: progressive delay ---------------------------------------------


@pytest.mark.parametrize("admin", [False, True], ids=["login", "admin-login"])
def test_failures_on_one_account_from_many_addresses_slow_it_down(personas, settings, clock, admin):
    settings.SERVIO_LOGIN_MAX_DELAY_SECONDS = 8
    email = "admin@provider.example"
    limit = settings.SERVIO_LOGIN_FAILURE_LIMIT
    addresses = (f"192.0.2.{n}" for n in range(1, 250))
    for _ in range(limit):
        assert attempt(email, address=next(addresses), admin=admin).status_code == 200
    for delay in (1, 2, 4, 8, 8, 8):  # doubling, up to the maximum and never beyond
        refused = attempt(email, PASSWORD, address=next(addresses), admin=admin)
        assert refused.status_code == 429 and refused["Retry-After"] == str(delay)
        wait = f"{delay} second{'s' if delay > 1 else ''}"
        assert f"Too many failed sign-ins for this account; try again in {wait}" in page(refused)
        clock.shift(delay)
        assert attempt(email, address=next(addresses), admin=admin).status_code == 200
    # The owner waits at most the maximum, then signs in; that forgives the account's count.
    clock.shift(8)
    assert signed_in(attempt(email, PASSWORD, address=next(addresses), admin=admin))
    assert attempt(email, address=next(addresses), admin=admin).status_code == 200


def test_the_pause_is_per_account(personas, settings, clock):
    for n in range(settings.SERVIO_LOGIN_FAILURE_LIMIT):
        attempt(RITA, address=f"192.0.2.{n + 1}")
    assert attempt(RITA, PASSWORD, address="192.0.2.200").status_code == 429
    assert signed_in(attempt("carl@acme.example", PASSWORD, address="192.0.2.200"))


def test_case_variants_of_the_address_count_as_one_account(personas, settings, clock):
    variants = ["RITA@acme.example", "Rita@Acme.example", " rita@ACME.EXAMPLE "]
    for n in range(settings.SERVIO_LOGIN_FAILURE_LIMIT):
        attempt(variants[n % 3], address=f"192.0.2.{n + 1}")
    assert attempt(RITA, PASSWORD, address="192.0.2.200").status_code == 429


def test_unknown_accounts_are_paused_exactly_like_real_ones(personas, settings, clock):
    """No existence oracle: the same answers, in the same order, for a real and a made-up
    account."""
    answers = {}
    for email in (RITA, "nobody@acme.example"):
        seen = []
        for n in range(settings.SERVIO_LOGIN_FAILURE_LIMIT + 2):
            response = attempt(email, address=f"192.0.2.{n + 1}")
            text = CSRF.sub("", page(response).replace(email, "<email>"))
            seen.append((response.status_code, response.get("Retry-After"), text))
        answers[email] = seen
        clock.shift(3600)
    assert answers[RITA] == answers["nobody@acme.example"]


def test_a_password_reset_lifts_the_accounts_pause(personas, settings, clock):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    for n in range(settings.SERVIO_LOGIN_FAILURE_LIMIT):
        attempt(RITA, address=f"192.0.2.{n + 1}")
    assert attempt(RITA, PASSWORD, address="203.0.113.5").status_code == 429
    user = personas.requester_acme
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    owner = Client(REMOTE_ADDR="203.0.113.5")
    form = owner.get(f"/password/reset/{uid}/{token}/", follow=True)
    new = "a much better one 42"
    done = owner.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done["Location"] == "/password/reset/done/"
    assert signed_in(attempt(RITA, new, address="203.0.113.5"))


# --- the log ----------------------------------------------------------------------------------


def test_failures_and_pauses_are_logged_but_refused_attempts_add_nothing(personas, settings, clock):
    address = "198.51.100.20"
    limit = settings.SERVIO_LOGIN_FAILURE_LIMIT
    for _ in range(limit):
        attempt(RITA, address=address)
    for _ in range(5):  # refused by the pause: cheap for an attacker, so no row each
        assert attempt(RITA, address=address).status_code == 429
    attempt("nobody@acme.example", address=address)
    failed = list(SecurityEvent.objects.filter(kind=Kind.SIGN_IN_FAILED).order_by("id"))
    assert len(failed) == limit + 1
    assert {(e.object_id, e.detail["username"]) for e in failed} == {
        (str(personas.requester_acme.pk), RITA),
        ("", "nobody@acme.example"),
    }
    assert {(e.client_ip, e.path, e.status, e.user_id) for e in failed} == {
        (address, "/login/", 200, None)
    }
    pauses = SecurityEvent.objects.filter(kind=Kind.LOCKOUT).order_by("id")
    assert [(e.detail["scope"], e.detail["seconds"]) for e in pauses] == [
        ("signin-pair", settings.SERVIO_LOGIN_COOLOFF_SECONDS),
        ("signin-account", 1),
    ]
    assert all(e.object_id == str(personas.requester_acme.pk) for e in pauses)


def test_admin_login_failures_are_logged_too(personas, clock):
    attempt("admin@provider.example", address="198.51.100.21", admin=True)
    (event,) = SecurityEvent.objects.filter(kind=Kind.SIGN_IN_FAILED)
    assert event.path == "/admin/login/" and event.detail == {"username": "admin@provider.example"}


# --- shared between processes -----------------------------------------------------------------


@pytest.mark.redis
def test_counts_live_in_redis_when_it_is_configured(personas, settings):
    """With SERVIO_REDIS_URL every process counts in the same place (Redis INCR)."""
    import redis

    url = os.environ.get("SERVIO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        require_component(False, "Redis on 127.0.0.1:6379", "apt-get install redis-server")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",  # Redis may be shared
        }
    }
    address = "198.51.100.30"
    for _ in range(settings.SERVIO_LOGIN_FAILURE_LIMIT):
        attempt(RITA, address=address)
    assert attempt(RITA, PASSWORD, address=address).status_code == 429
    keys = redis.Redis.from_url(url).keys(f"{settings.CACHES['default']['KEY_PREFIX']}:*")
    assert keys and not any(b"rita" in key or address.encode() in key for key in keys)
