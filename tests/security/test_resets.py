"""Password-reset throttle (issue 12, item 8): the form once sent 100 emails to one account in
3 seconds. Now a few per account and per client address per window, no email beyond, and the
same page at the same cost whether or not the account exists (or was throttled)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from servio.core import outbox
from servio.security.models import SecurityEvent

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind
START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def ask(email: str, *, address: str = "198.51.100.9", **extra):
    return Client().post("/password/reset/", {"email": email}, REMOTE_ADDR=address, **extra)


def sent_to() -> list[str]:
    outbox.drain()
    return [to for message in mail.outbox for to in message.to]


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_a_hundred_requests_send_a_few_emails(personas, settings, clock):
    answers = {
        (r.status_code, r["Location"]) for r in (ask("rita@acme.example") for _ in range(100))
    }
    assert answers == {(302, "/password/reset/sent/")}
    assert sent_to() == ["rita@acme.example"] * settings.SERVIO_PASSWORD_RESET_ACCOUNT_LIMIT


def test_the_account_limit_holds_across_addresses(personas, settings, clock):
    for n in range(20):
        ask("rita@acme.example", address=f"192.0.2.{n + 1}")
    assert len(sent_to()) == settings.SERVIO_PASSWORD_RESET_ACCOUNT_LIMIT


def test_one_address_asking_for_many_accounts_is_limited(personas, settings, clock):
    limit = settings.SERVIO_PASSWORD_RESET_ADDRESS_LIMIT
    for n in range(limit):
        ask(f"someone{n}@acme.example")
    ask("rita@acme.example")  # over the address's limit: nothing is sent
    assert sent_to() == []
    ask("rita@acme.example", address="203.0.113.5")  # another address still may
    assert sent_to() == ["rita@acme.example"]


def test_the_window_passes(personas, settings, clock):
    for _ in range(10):
        ask("rita@acme.example")
    clock.shift(settings.SERVIO_PASSWORD_RESET_WINDOW_MINUTES * 60 + 1)
    ask("rita@acme.example")
    assert len(sent_to()) == settings.SERVIO_PASSWORD_RESET_ACCOUNT_LIMIT + 1


def test_same_answer_and_same_work_whether_or_not_the_account_exists(personas, clock):
    answers, statements = [], []
    for n, email in enumerate(("rita@acme.example", "nobody@acme.example")):
        with CaptureQueriesContext(connection) as queries:
            response = ask(email, address=f"192.0.2.{n + 1}")
        answers.append((response.status_code, response["Location"], sorted(response.headers)))
        statements.append([q["sql"].split()[0] for q in queries.captured_queries])
    assert answers[0] == answers[1]
    assert statements[0] == statements[1]
    assert sent_to() == ["rita@acme.example"]


def test_throttled_resets_are_logged_once_per_window(personas, settings, clock):
    for _ in range(30):  # over the account's limit from the 4th, the address's from the 11th
        ask("rita@acme.example")
    events = SecurityEvent.objects.filter(kind=Kind.RESET_THROTTLED).order_by("id")
    assert [e.detail for e in events] == [
        {"scope": "reset-account", "email": "rita@acme.example"},
        {"scope": "reset-address", "email": "rita@acme.example"},
    ]
    assert {(e.client_ip, e.path, e.status) for e in events} == {
        ("198.51.100.9", "/password/reset/", 302)
    }


def test_the_link_points_at_the_configured_address_not_the_requests_host(personas, settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.SERVIO_BASE_URL = "https://desk.example.com"
    ask("rita@acme.example", HTTP_HOST="attacker.example")
    outbox.drain()
    (message,) = mail.outbox
    assert "https://desk.example.com/password/reset/" in message.body
    assert "attacker.example" not in message.body
