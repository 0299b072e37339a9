"""Every API error is an RFC 9457 problem document with the right status, never a 500."""

from __future__ import annotations

import sqlite3

import pytest
from django.conf import settings
from django.test import Client

from servio.accounts import services as account_services
from tests.api.helpers import assert_problem, error_fields, without_request_details
from tests.conftest import ApiClient
from tests.drills import queries_fail_with, sqlite_locked, wrapped

pytestmark = pytest.mark.django_db


def raw_post(api: ApiClient, path: str, body: bytes | str, content_type: str):
    """POST a body exactly as given (ApiClient.post would encode it as JSON)."""
    return api.client.post(path, data=body, content_type=content_type, headers=api._headers(None))


# --- 401 / 403 --------------------------------------------------------------------------------


def test_no_credentials_is_401_with_a_bearer_challenge(personas):
    response = Client().get("/api/v1/me")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer nope", "Bearer svo_0123456789ab_notthesecret", "Bearer " + "x" * 500, "Basic abc"],
)
def test_invalid_credentials_are_401(personas, authorization):
    assert_problem(Client().get("/api/v1/me", headers={"Authorization": authorization}), 401)


def test_read_only_token_cannot_post_403(personas, api_as):
    reader = api_as(personas.requester_acme, scope="read")
    body = assert_problem(reader.post("me/tokens", json={"name": "x"}), 403)
    assert "read-only" in body["detail"]
    assert reader.get("me").status_code == 200


def test_capability_missing_is_403(personas, api_as):
    assert_problem(api_as(personas.agent_desk).get("audit-events"), 403)


def test_session_post_without_csrf_token_is_403(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.admin)
    response = client.post("/api/v1/me/tokens", {"name": "x"}, content_type="application/json")
    assert_problem(response, 403)


# --- 404 / 405 --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nonexistent", "/api/v1/me/nothing/here", "/api/x"])
def test_unknown_path_is_404(personas, api_as, path):
    assert_problem(api_as(personas.admin).get(path), 404)


@pytest.mark.parametrize(
    ("viewer", "hidden"),
    [
        ("requester_acme", "globex"),  # another customer organisation
        ("agent_desk", "globex"),  # an organisation the agent's teams do not serve
    ],
)
def test_other_organization_looks_exactly_like_a_missing_one(personas, api_as, viewer, hidden):
    api = api_as(getattr(personas, viewer))
    hidden_org = getattr(personas, hidden)
    hidden_body = assert_problem(api.get(f"organizations/{hidden_org.pk}"), 404)
    missing_body = assert_problem(api.get("organizations/987654"), 404)
    assert without_request_details(hidden_body) == without_request_details(missing_body)


@pytest.mark.parametrize(
    ("viewer", "hidden"),
    [("requester_acme", "requester_globex"), ("requester_acme", "colleague_acme")],
)
def test_invisible_user_looks_exactly_like_a_missing_one(personas, api_as, viewer, hidden):
    api = api_as(getattr(personas, viewer))
    hidden_user = getattr(personas, hidden)
    hidden_body = assert_problem(api.get(f"users/{hidden_user.pk}"), 404)
    missing_body = assert_problem(api.get("users/987654"), 404)
    assert without_request_details(hidden_body) == without_request_details(missing_body)


def test_requester_lists_show_nothing_of_another_organization(personas, api_as):
    api = api_as(personas.requester_acme)
    orgs = api.get("organizations").json()["items"]
    users = api.get("users").json()["items"]
    assert [o["id"] for o in orgs] == [personas.acme.pk]
    assert [u["id"] for u in users] == [personas.requester_acme.pk]


def test_wrong_method_is_405_with_allow(personas, api_as):
    response = api_as(personas.admin).request("PUT", "me", json={})
    assert_problem(response, 405)
    assert "GET" in response["Allow"]


# --- 400 / 413 / 415 --------------------------------------------------------------------------


def test_malformed_json_is_400_naming_the_body(personas, api_as):
    body = assert_problem(
        raw_post(api_as(personas.admin), "/api/v1/me/tokens", "{bad", "application/json"), 400
    )
    assert error_fields(body) == {"body"}


@pytest.mark.parametrize("with_key", [False, True])
def test_oversized_body_is_413(personas, api_as, settings, with_key):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    headers = {"Idempotency-Key": "big-1"} if with_key else None
    response = api_as(personas.admin).post("me/tokens", json={"name": "x" * 500}, headers=headers)
    assert_problem(response, 413)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "name=x"),
        ("application/x-www-form-urlencoded", "name=x"),
        ("application/xml", "<name>x</name>"),
    ],
)
def test_non_json_body_is_415(personas, api_as, content_type, body):
    response = raw_post(api_as(personas.admin), "/api/v1/me/tokens", body, content_type)
    assert_problem(response, 415)


# --- 422 --------------------------------------------------------------------------------------


def test_invalid_body_fields_are_each_named(personas, api_as):
    response = api_as(personas.admin).post("me/tokens", json={"name": "", "scope": "admin"})
    body = assert_problem(response, 422)
    assert error_fields(body) == {"name", "scope"}
    assert all(error["message"] for error in body["errors"])


def test_missing_body_field_is_named(personas, api_as):
    body = assert_problem(api_as(personas.admin).post("me/tokens", json={"scope": "read"}), 422)
    assert error_fields(body) == {"name"}


def test_body_that_is_not_an_object_is_named_body(personas, api_as):
    response = raw_post(api_as(personas.admin), "/api/v1/me/tokens", "[1, 2]", "application/json")
    assert error_fields(assert_problem(response, 422)) == {"body"}


def test_naive_expiry_is_422_not_500(personas, api_as):
    response = api_as(personas.admin).post(
        "me/tokens", json={"name": "x", "expires_at": "2099-01-01T00:00:00"}
    )
    assert error_fields(assert_problem(response, 422)) == {"expires_at"}


def test_service_validation_error_names_the_field(personas, api_as):
    response = api_as(personas.admin).post(
        "me/tokens", json={"name": "x", "expires_at": "2001-01-01T00:00:00Z"}
    )
    assert error_fields(assert_problem(response, 422)) == {"expires_at"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("cursor=%%%", "cursor"),
    ],
)
def test_invalid_query_parameters_are_named(personas, api_as, query, field):
    body = assert_problem(api_as(personas.admin).get(f"organizations?{query}"), 422)
    assert error_fields(body) == {field}


def test_invalid_path_parameter_is_named(personas, api_as):
    body = assert_problem(api_as(personas.admin).get("organizations/abc"), 422)
    assert error_fields(body) == {"org_id"}


def test_nul_characters_are_refused_with_the_field_named(personas, api_as):
    api = api_as(personas.admin)
    body = assert_problem(api.post("me/tokens", json={"name": "a\x00b"}), 422)
    assert error_fields(body) == {"name"}
    body = assert_problem(api.get("audit-events?action=a%00b"), 422)
    assert error_fields(body) == {"action"}


def test_lone_surrogate_is_refused(personas, api_as):
    response = raw_post(
        api_as(personas.admin), "/api/v1/me/tokens", '{"name": "\\ud800"}', "application/json"
    )
    assert error_fields(assert_problem(response, 422)) == {"name"}


# --- 429 --------------------------------------------------------------------------------------


def test_rate_limit_is_per_token_and_answers_429_with_retry_after(personas, api_as, settings):
    settings.SERVIO_API_RATE_LIMIT = 3
    busy, other = api_as(personas.admin), api_as(personas.agent_desk)
    for _ in range(3):
        assert busy.get("me").status_code == 200
    response = busy.get("me")
    assert_problem(response, 429)
    # The oldest counted request leaves the one-minute window in about 60 seconds.
    assert 55 <= int(response["Retry-After"]) <= 60
    assert other.get("me").status_code == 200


# --- 500 --------------------------------------------------------------------------------------


def test_unexpected_error_is_still_a_problem_with_a_request_id(personas, api_as, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(account_services, "token_create", broken)
    body = assert_problem(api_as(personas.admin).post("me/tokens", json={"name": "x"}), 500)
    assert body["request_id"]
    assert "boom" not in body["detail"]  # internals are logged, not shown


def test_integer_beyond_64_bits_in_a_filter_is_never_a_500(personas, api_as):
    # SQLite cannot bind such a number (the API answers 422); PostgreSQL compares it (no match).
    response = api_as(personas.admin).get(f"tickets?priority={10**30}")
    if response.status_code != 200:
        assert_problem(response, 422)


# --- 503: the database is unavailable (drilled for real in test_outages.py) --------------------


@pytest.fixture
def database_locked(tmp_path):
    """Queries fail as they do while another writer holds SQLite's lock past the timeout."""
    return queries_fail_with(wrapped(sqlite3, lambda: sqlite_locked(tmp_path)))


def test_a_database_outage_in_a_view_is_503_with_retry_after(personas, api_as, database_locked):
    api = api_as(personas.agent_desk)
    with database_locked:
        response = api.get("tickets")
    body = assert_problem(response, 503)
    assert body["type"].endswith("/database_unavailable")
    assert "locked by another write" in body["detail"]
    assert response["Retry-After"] == str(settings.SERVIO_UNAVAILABLE_RETRY_AFTER_SECONDS)


def test_a_database_outage_before_the_view_is_503_problem_too(personas, api_as, database_locked):
    api = api_as(personas.agent_desk)
    api.client = Client(raise_request_exception=False)  # as a server answers, not re-raised
    with database_locked:  # the idempotency middleware's lookup fails, outside the API's views
        response = api.post("me/tokens", json={"name": "x"}, headers={"Idempotency-Key": "k"})
    assert_problem(response, 503)
    assert response["Retry-After"]
