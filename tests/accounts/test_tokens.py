"""Personal API tokens: shown once, stored hashed, scoped, expiring, revocable, last use kept."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from servio.accounts.models import ApiToken
from servio.accounts.services import token_create
from servio.audit.models import AuditEvent
from tests.api.helpers import assert_problem, error_fields
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db


def _token_of(api: ApiClient) -> ApiToken:
    return ApiToken.objects.get(prefix=api.token.split("_")[1])


def test_the_secret_is_returned_once_and_never_listed(personas, api_as):
    api = api_as(personas.agent_desk)
    created = api.post("me/tokens", json={"name": "laptop", "scope": "read"})
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("svo_")
    assert body["scope"] == "read" and body["name"] == "laptop"
    listed = api.get("me/tokens")
    assert listed.status_code == 200
    assert all("token" not in item for item in listed.json()["items"])
    assert body["token"] not in listed.content.decode()
    assert body["id"] in [item["id"] for item in listed.json()["items"]]


def test_only_the_sha256_is_stored(personas, api_as):
    body = api_as(personas.agent_desk).post("me/tokens", json={"name": "ci"}).json()
    # The whole secret: a URL-safe secret may hold "_", and its last piece can be one character.
    plaintext = body["token"]
    secret = plaintext.split("_", 2)[2]
    row = ApiToken.objects.filter(pk=body["id"]).values().get()
    assert row["key_hash"] == hashlib.sha256(plaintext.encode()).hexdigest()
    assert not any(secret in str(value) for value in row.values())
    assert not any(
        secret in str(event.changes) for event in AuditEvent.objects.all()
    )  # nor in the audit trail


def test_new_token_works_for_bearer_auth(personas, api_as):
    body = api_as(personas.agent_desk).post("me/tokens", json={"name": "ci"}).json()
    me = ApiClient(body["token"]).get("me")
    assert me.status_code == 200 and me.json()["email"] == personas.agent_desk.email


def test_revoked_token_is_401(personas, api_as):
    api = api_as(personas.agent_desk)
    assert api.get("me").status_code == 200
    token = _token_of(api)
    assert api.delete(f"me/tokens/{token.pk}").status_code == 204
    assert_problem(api.get("me"), 401)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_token.revoked", object_id=str(token.pk)).exists()


def test_expired_token_is_401(personas, api_as):
    api = api_as(personas.agent_desk)
    ApiToken.objects.filter(pk=_token_of(api).pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert_problem(api.get("me"), 401)


def test_token_with_a_future_expiry_works_until_then(personas):
    issued = token_create(
        actor=personas.agent_desk, name="short", expires_at=timezone.now() + timedelta(hours=1)
    )
    assert ApiClient(issued.plaintext).get("me").status_code == 200


def test_inactive_users_token_is_401(personas, api_as):
    api = api_as(personas.agent_desk)
    personas.agent_desk.is_active = False
    personas.agent_desk.save()
    assert_problem(api.get("me"), 401)


def test_tampered_secret_with_a_real_prefix_is_401(personas, api_as):
    api = api_as(personas.agent_desk)
    assert_problem(ApiClient(api.token[:-4] + "AAAA").get("me"), 401)


def test_read_scope_can_read_but_not_write(personas, api_as):
    reader = api_as(personas.agent_desk, scope="read")
    assert reader.get("me/tokens").status_code == 200
    assert_problem(reader.post("me/tokens", json={"name": "x"}), 403)
    assert_problem(reader.delete(f"me/tokens/{_token_of(reader).pk}"), 403)
    assert _token_of(reader).revoked_at is None


def test_last_use_time_and_address_are_kept(personas, api_as):
    api = api_as(personas.agent_desk)
    assert _token_of(api).last_used_at is None
    before = timezone.now()
    api.get("me")
    token = _token_of(api)
    assert token.last_used_at is not None and token.last_used_at >= before
    assert token.last_used_ip == "127.0.0.1"
    listed = {item["id"]: item for item in api.get("me/tokens").json()["items"]}
    assert listed[token.pk]["last_used_at"] is not None


def test_revoking_another_users_token_is_404_for_a_non_admin(personas, api_as):
    victim = api_as(personas.agent_network)
    victim_token = _token_of(victim)
    attacker = api_as(personas.agent_desk)
    hidden = assert_problem(attacker.delete(f"me/tokens/{victim_token.pk}"), 404)
    missing = assert_problem(attacker.delete("me/tokens/987654"), 404)
    assert hidden["detail"] == missing["detail"]
    victim_token.refresh_from_db()
    assert victim_token.revoked_at is None
    assert victim.get("me").status_code == 200


def test_admin_may_revoke_anyones_token(personas, api_as):
    victim = api_as(personas.requester_acme)
    token = _token_of(victim)
    assert api_as(personas.admin).delete(f"me/tokens/{token.pk}").status_code == 204
    assert_problem(victim.get("me"), 401)


def test_token_list_shows_only_your_own_tokens(personas, api_as):
    api_as(personas.agent_network)
    mine = api_as(personas.agent_desk).get("me/tokens").json()["items"]
    owners = set(
        ApiToken.objects.filter(pk__in=[t["id"] for t in mine]).values_list("user", flat=True)
    )
    assert owners == {personas.agent_desk.pk}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "expires_at": "2099-01-01T00:00:00"}, "expires_at"),  # naive
        ({"name": "x", "scope": "admin"}, "scope"),
        ({"name": "x" * 101}, "name"),
        ({"name": "   "}, "name"),
    ],
)
def test_invalid_token_requests_name_the_field(personas, api_as, payload, field):
    body = assert_problem(api_as(personas.agent_desk).post("me/tokens", json=payload), 422)
    assert error_fields(body) == {field}
