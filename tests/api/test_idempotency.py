"""`Idempotency-Key` on POST: replay the first response, refuse reuse, stay per client."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from servio.accounts.models import ApiToken
from servio.accounts.services import token_revoke
from servio.api.models import IdempotencyRecord
from servio.core import outbox
from servio.tickets.models import Ticket
from tests.api.helpers import assert_problem, error_fields

pytestmark = pytest.mark.django_db


def create_token(api, key: str, name: str = "ci"):
    return api.post("me/tokens", json={"name": name}, headers={"Idempotency-Key": key})


def test_same_key_and_body_replays_the_first_response(personas, api_as):
    api = api_as(personas.admin)
    before = ApiToken.objects.count()
    first = create_token(api, "key-1")
    second = create_token(api, "key-1")
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert ApiToken.objects.count() == before + 1


def test_same_key_with_another_body_is_422(personas, api_as):
    api = api_as(personas.admin)
    assert create_token(api, "key-2", name="first").status_code == 201
    body = assert_problem(create_token(api, "key-2", name="second"), 422)
    assert error_fields(body) == {"Idempotency-Key"}
    assert ApiToken.objects.filter(name="second").count() == 0


def test_keys_belong_to_one_client(personas, api_as):
    admin, agent = api_as(personas.admin), api_as(personas.agent_desk)
    first = create_token(admin, "shared-key")
    other = create_token(agent, "shared-key")
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert other.json()["token"] != first.json()["token"]
    assert ApiToken.objects.filter(user=personas.agent_desk, name="ci").count() == 1


@pytest.mark.parametrize("key", ["k" * 256, "", "tab\tinside", "caf\u00e9"])
def test_invalid_key_is_422(personas, api_as, key):
    body = assert_problem(create_token(api_as(personas.admin), key), 422)
    assert error_fields(body) == {"Idempotency-Key"}


def test_longest_allowed_key_works(personas, api_as):
    api = api_as(personas.admin)
    assert create_token(api, "k" * 255).status_code == 201
    assert create_token(api, "k" * 255)["Idempotent-Replayed"] == "true"


def test_stored_response_does_not_hold_the_new_token_in_clear(personas, api_as):
    issued = create_token(api_as(personas.admin), "key-secret").json()["token"]
    record = IdempotencyRecord.objects.get(key="key-secret")
    stored = bytes(record.response_body)
    assert issued.encode() not in stored
    # svo_<prefix>_<secret>; the secret itself may contain "_" (URL-safe base64), so cut twice
    # only: its last "_"-piece alone can be a single character that random bytes contain.
    secret = issued.split("_", 2)[2]
    assert len(secret) >= 40 and secret.encode() not in stored


def test_revoked_token_gets_401_not_the_stored_response(personas, api_as):
    api = api_as(personas.admin)
    assert create_token(api, "key-3").status_code == 201
    token = ApiToken.objects.get(prefix=api.token.split("_")[1])
    token_revoke(actor=personas.admin, token=token)
    assert_problem(create_token(api, "key-3"), 401)


def test_invalid_credentials_store_nothing(personas):
    response = Client().post(
        "/api/v1/me/tokens",
        {"name": "x"},
        content_type="application/json",
        headers={"Authorization": "Bearer svo_forged_token", "Idempotency-Key": "key-x"},
    )
    assert_problem(response, 401)
    assert not IdempotencyRecord.objects.exists()


def test_keyed_bodies_are_capped_even_where_django_does_not(personas, api_as, settings):
    settings.SERVIO_IDEMPOTENCY_MAX_BODY_BYTES = 100  # multipart uploads escape Django's cap
    response = create_token(api_as(personas.admin), "key-big", name="x" * 200)
    assert_problem(response, 413)
    assert not IdempotencyRecord.objects.exists()


def test_throttled_request_is_not_stored_so_the_retry_runs(personas, api_as, settings):
    api = api_as(personas.admin)
    settings.SERVIO_API_RATE_LIMIT = 1
    assert api.get("me").status_code == 200
    assert_problem(create_token(api, "key-4"), 429)
    settings.SERVIO_API_RATE_LIMIT = 1000
    retry = create_token(api, "key-4")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry


def test_key_still_in_progress_is_409_saying_when_to_retry(personas, api_as, settings):
    settings.SERVIO_IDEMPOTENCY_LEASE_SECONDS = 60
    api = api_as(personas.admin)
    assert create_token(api, "key-5").status_code == 201
    started = timezone.now() - timedelta(seconds=15)
    IdempotencyRecord.objects.filter(key="key-5").update(status_code=None, created_at=started)
    response = create_token(api, "key-5")
    body = assert_problem(response, 409)
    assert 44 <= int(response["Retry-After"]) <= 45
    assert f"{response['Retry-After']} seconds" in body["detail"]


# --- a request that died mid-way (worker killed) ------------------------------------------------


# These tests run without the test transaction around them: each request commits on its own as
# in production, so a dying request leaves exactly what a killed worker leaves.
killed = pytest.mark.django_db(transaction=True)


class WorkerKilled(BaseException):
    """A worker killed mid-request: no `except Exception`, no middleware, nothing cleans up."""


def die(*args, **kwargs):
    raise WorkerKilled


def create_ticket(api, key: str, title: str = "Printer on fire"):
    return api.post("tickets", json={"title": title}, headers={"Idempotency-Key": key})


def dies_midway(api, monkeypatch, key: str, title: str = "Printer on fire") -> None:
    """POST with the key; the worker dies inside the service's transaction (at its event)."""
    with monkeypatch.context() as patch:
        patch.setattr(outbox, "publish", die)
        with pytest.raises(WorkerKilled):
            create_ticket(api, key, title)


@killed
def test_a_key_whose_request_died_runs_again_once_its_lease_is_over(
    personas, api_as, settings, monkeypatch
):
    settings.SERVIO_IDEMPOTENCY_LEASE_SECONDS = 60
    api = api_as(personas.requester_acme)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        dies_midway(api, monkeypatch, "died-1")
        assert not Ticket.objects.filter(title="Printer on fire").exists()
        assert IdempotencyRecord.objects.get(key="died-1").status_code is None

        clock.shift(20)
        early = create_ticket(api, "died-1")
        assert_problem(early, 409)
        assert early["Retry-After"] == "40"
        assert not Ticket.objects.filter(title="Printer on fire").exists()

        clock.shift(41)
        retry = create_ticket(api, "died-1")
        assert retry.status_code == 201, retry.content
        assert "Idempotent-Replayed" not in retry
        assert Ticket.objects.filter(title="Printer on fire").count() == 1

        clock.shift(3600)  # a finished key replays as before, long after any lease
        again = create_ticket(api, "died-1")
        assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
        assert again.json()["reference"] == retry.json()["reference"]
        assert Ticket.objects.filter(title="Printer on fire").count() == 1


@killed
def test_a_retry_that_takes_the_key_over_holds_a_fresh_lease(
    personas, api_as, settings, monkeypatch
):
    settings.SERVIO_IDEMPOTENCY_LEASE_SECONDS = 30
    api = api_as(personas.requester_acme)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        dies_midway(api, monkeypatch, "died-2")
        clock.shift(31)
        dies_midway(api, monkeypatch, "died-2")  # the retry took the key over, and died too
        clock.shift(10)
        held = create_ticket(api, "died-2")
        assert_problem(held, 409)
        assert held["Retry-After"] == "20"
        clock.shift(21)
        assert create_ticket(api, "died-2").status_code == 201
    assert Ticket.objects.filter(title="Printer on fire").count() == 1


@killed
def test_an_unfinished_key_is_not_taken_over_by_another_request(
    personas, api_as, settings, monkeypatch
):
    settings.SERVIO_IDEMPOTENCY_LEASE_SECONDS = 30
    api = api_as(personas.requester_acme)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        dies_midway(api, monkeypatch, "died-3")
        clock.shift(31)
        body = assert_problem(create_ticket(api, "died-3", title="Something else"), 422)
    assert error_fields(body) == {"Idempotency-Key"}
    assert not Ticket.objects.filter(title="Something else").exists()


@killed
def test_a_request_that_outlives_its_lease_does_not_overwrite_the_retry(
    personas, api_as, settings, monkeypatch
):
    """The first request is slow, not dead: a retry takes its key over meanwhile. The stored
    answer is the retry's, and the late first request does not replace it."""
    settings.SERVIO_IDEMPOTENCY_LEASE_SECONDS = 30
    api = api_as(personas.requester_acme)
    publish = outbox.publish
    answers = []

    def slow_publish(*args, **kwargs):
        if not answers:  # the first request, half-way: 31 s pass and the client retries
            answers.append(None)
            clock.shift(31)
            answers[0] = create_ticket(api, "slow-1", "Slow")
        return publish(*args, **kwargs)

    with time_machine.travel(timezone.now(), tick=False) as clock:
        monkeypatch.setattr(outbox, "publish", slow_publish)
        first = create_ticket(api, "slow-1", "Slow")
        monkeypatch.setattr(outbox, "publish", publish)
        (retry,) = answers
        assert first.status_code == retry.status_code == 201
        replay = create_ticket(api, "slow-1", "Slow")
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["reference"] == retry.json()["reference"]
    # The price of a lease shorter than the request: both ran (decision 25).
    assert Ticket.objects.filter(title="Slow").count() == 2


def test_validation_errors_are_replayed_too(personas, api_as):
    api = api_as(personas.admin)
    first = api.post("me/tokens", json={"name": ""}, headers={"Idempotency-Key": "key-6"})
    second = api.post("me/tokens", json={"name": ""}, headers={"Idempotency-Key": "key-6"})
    assert first.status_code == second.status_code == 422
    assert second["Idempotent-Replayed"] == "true"


def test_session_clients_get_replays_too(personas):
    client = Client()
    client.force_login(personas.agent_desk)

    def post():
        return client.post(
            "/api/v1/me/tokens",
            {"name": "ui"},
            content_type="application/json",
            headers={"Idempotency-Key": "ui-1"},
        )

    first, second = post(), post()
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert ApiToken.objects.filter(user=personas.agent_desk, name="ui").count() == 1


def test_get_ignores_the_header(personas, api_as):
    api = api_as(personas.admin)
    response = api.get("me", headers={"Idempotency-Key": "k" * 300})
    assert response.status_code == 200
