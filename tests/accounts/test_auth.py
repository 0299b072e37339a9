"""UI sign-in: email login, argon2 hashing, brute-force lockout, secure cookies (the throttles
themselves: tests/security/test_signin.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


def production_settings(tmp_path: Path, **env: str) -> dict:
    """Import servio.settings in a fresh interpreter with only these SERVIO_* variables set."""
    names = [
        "PASSWORD_HASHERS",
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "SECURE_PROXY_SSL_HEADER",
        "SERVIO_LOGIN_FAILURE_LIMIT",
    ]
    code = (
        "import json, servio.settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}))"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SERVIO_")}
    environ.pop("DATABASE_URL", None)
    environ |= {"SERVIO_VAR_DIR": str(tmp_path), "SERVIO_SECRET_KEY": "test-only"} | env
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed snippet
        [sys.executable, "-c", code], env=environ, cwd=REPO, capture_output=True, check=True
    )
    return json.loads(result.stdout)


def login(client: Client, email: str, password: str = PASSWORD):
    return client.post("/login/", {"username": email, "password": password})


# --- session login ----------------------------------------------------------------------------


def test_login_with_email_starts_a_session(personas):
    client = Client()
    response = login(client, "rita@acme.example")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(personas.requester_acme.pk)
    home = client.get("/", follow=True)
    assert home.status_code == 200 and "Rita" in home.content.decode()


def test_email_case_does_not_matter(personas):
    client = Client()
    assert login(client, "  Rita@ACME.example ").status_code == 302
    assert client.session["_auth_user_id"] == str(personas.requester_acme.pk)


def test_wrong_password_shows_the_form_again(personas):
    client = Client()
    response = login(client, "rita@acme.example", "wrong")
    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_inactive_user_cannot_sign_in(personas):
    personas.requester_acme.is_active = False
    personas.requester_acme.save()
    client = Client()
    assert login(client, "rita@acme.example").status_code == 200
    assert "_auth_user_id" not in client.session


def test_home_needs_a_session(db):
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_logout_ends_the_session(personas):
    client = Client()
    login(client, "rita@acme.example")
    assert client.post("/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


# --- password hashing -------------------------------------------------------------------------


def test_argon2_is_the_production_password_hasher(tmp_path):
    configured = production_settings(tmp_path)["PASSWORD_HASHERS"]
    assert configured[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert not any("MD5" in hasher for hasher in configured)


def test_fast_hasher_only_when_asked_for(tmp_path):
    configured = production_settings(tmp_path, SERVIO_FAST_PASSWORD_HASHER="1")
    assert configured["PASSWORD_HASHERS"][0].endswith("MD5PasswordHasher")


def test_passwords_are_stored_as_argon2_hashes(personas, settings, tmp_path):
    settings.PASSWORD_HASHERS = production_settings(tmp_path)["PASSWORD_HASHERS"]
    user = personas.requester_acme
    user.set_password("a new long passphrase")
    user.save()
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert "a new long passphrase" not in user.password
    assert check_password("a new long passphrase", user.password)
    assert make_password("x", hasher=Argon2PasswordHasher.algorithm).startswith("argon2$")


# --- brute-force lockout ----------------------------------------------------------------------


def test_repeated_failures_lock_out_even_the_right_password(personas, settings):
    client = Client()
    for _ in range(settings.SERVIO_LOGIN_FAILURE_LIMIT):
        login(client, "rita@acme.example", "guess")
    response = login(client, "rita@acme.example")
    assert response.status_code == 429
    assert "Too many failed sign-ins for this account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_changing_the_case_of_the_email_does_not_reset_the_count(personas, settings):
    client = Client()
    variants = ["RITA@acme.example", "Rita@Acme.example", "rita@ACME.EXAMPLE", "rItA@acme.example"]
    for n in range(settings.SERVIO_LOGIN_FAILURE_LIMIT):
        login(client, variants[n % len(variants)], "guess")
    assert login(client, "rita@acme.example").status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_account(personas, settings):
    client = Client()
    for _ in range(settings.SERVIO_LOGIN_FAILURE_LIMIT):
        login(client, "rita@acme.example", "guess")
    assert login(client, "carl@acme.example").status_code == 302


def test_fewer_failures_than_the_limit_still_allow_login(personas, settings):
    client = Client()
    for _ in range(settings.SERVIO_LOGIN_FAILURE_LIMIT - 1):
        login(client, "rita@acme.example", "guess")
    assert login(client, "rita@acme.example").status_code == 302


def test_login_is_throttled_by_default(tmp_path):
    assert production_settings(tmp_path)["SERVIO_LOGIN_FAILURE_LIMIT"] == 5


# --- cookies ----------------------------------------------------------------------------------


def test_cookies_are_secure_behind_https_without_debug(tmp_path):
    config = production_settings(tmp_path, SERVIO_BASE_URL="https://desk.example.com")
    assert config["DEBUG"] is False
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["CSRF_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.parametrize(
    "env",
    [
        {"SERVIO_BASE_URL": "http://127.0.0.1:8000"},
        {"SERVIO_BASE_URL": "https://desk.example.com", "SERVIO_DEBUG": "1"},
    ],
)
def test_cookies_are_not_secure_for_plain_http_or_debug(tmp_path, env):
    config = production_settings(tmp_path, **env)
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["CSRF_COOKIE_SECURE"] is False


def test_session_cookie_carries_the_flags(personas, settings):
    settings.SESSION_COOKIE_SECURE = True
    client = Client()
    login(client, "rita@acme.example")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"] == "Lax"


# --- the admin login shares the lockout -------------------------------------------------------


def admin_login(client: Client, email: str, password: str = PASSWORD):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password})


def test_admin_login_locks_out_too(personas, settings):
    client = Client()
    for _ in range(settings.SERVIO_LOGIN_FAILURE_LIMIT):
        admin_login(client, "admin@provider.example", "guess")
    assert admin_login(client, "admin@provider.example").status_code == 429
    assert client.get("/admin/").status_code == 302


def test_admin_login_case_variants_share_one_lockout(personas, settings):
    client = Client()
    variants = ["ADMIN@provider.example", "Admin@Provider.example", "admin@PROVIDER.example"]
    for n in range(settings.SERVIO_LOGIN_FAILURE_LIMIT):
        admin_login(client, variants[n % len(variants)], "guess")
    assert admin_login(client, "admin@provider.example").status_code == 429
