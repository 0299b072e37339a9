"""Mailbox polling has a lane of its own, backs off per mailbox, and reports its health
(issue 13, item 8), against real servers: Dovecot, and a server that accepts and never answers.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

import servio.mail.tasks  # noqa: F401 - registers mail.poll
from servio.core import backoff, jobs, outbox
from servio.core.models import OutboxMessage
from servio.core.runner import Runner
from servio.mail import services, tasks
from servio.mail.models import Mailbox
from tests.mail.messages import make_email
from tests.mail.servers import free_port, hung_server

MAIL_POLL = jobs.JOBS["mail.poll"]  # as the app registers it
IMAP_TIMEOUT = 5


def _mailbox(
    address: str,
    port: int,
    *,
    username: str = "desk",
    password: str = "pw",  # noqa: S107
) -> Mailbox:
    return Mailbox.objects.create(
        address=address,
        imap_host="127.0.0.1",
        imap_port=port,
        security=Mailbox.Security.NONE,
        username=username,
        password=password,
    )


def _refused_port() -> int:
    return free_port()  # nothing listens there: connection refused at once


# --- its own lane -----------------------------------------------------------------------------


def test_mailbox_polling_runs_in_a_lane_of_its_own():
    assert MAIL_POLL.lane == "mail" != jobs.MAIN_LANE


@pytest.mark.django_db(transaction=True)
def test_a_hung_mail_server_does_not_delay_delivery(settings, job_registry, registry):
    """The drill: one mailbox's server accepts the connection and never answers. Polling it
    waits for the IMAP timeout; the outbox must deliver meanwhile, as if nothing happened."""
    settings.SERVIO_MAIL_IMAP_TIMEOUT = IMAP_TIMEOUT
    job_registry[MAIL_POLL.name] = MAIL_POLL
    delivered = threading.Event()
    outbox.handler("a", name="t.a")(lambda event: delivered.set())

    with hung_server() as server:
        mailbox = _mailbox("hung@provider.example", server.port)
        runner = Runner(poll_seconds=0.2).start()
        try:
            deadline = time.monotonic() + 10
            while not server.accepted and time.monotonic() < deadline:
                time.sleep(0.02)
            assert server.accepted, "the runner never polled the mailbox"
            published = time.monotonic()
            with transaction.atomic():
                outbox.publish("a", {})
            assert delivered.wait(IMAP_TIMEOUT / 2), "delivery waited for the hung mail server"
            took = time.monotonic() - published
            deadline = time.monotonic() + IMAP_TIMEOUT + 10
            while not Mailbox.objects.get(pk=mailbox.pk).poll_failures:
                assert time.monotonic() < deadline, "the poll never timed out"
                time.sleep(0.1)
        finally:
            runner.stop()
    assert took < IMAP_TIMEOUT / 2
    mailbox.refresh_from_db()
    assert mailbox.poll_failures == 1 and "timed out" in mailbox.last_error
    assert OutboxMessage.objects.get().status == "delivered"


# --- backoff ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failing_mailbox_backs_off_with_jitter_and_a_success_clears_it(
    personas, settings, monkeypatch, imap_account
):
    settings.SERVIO_MAIL_POLL_SECONDS = 60
    settings.SERVIO_MAIL_POLL_MAX_BACKOFF_SECONDS = 600
    monkeypatch.setattr(backoff, "_random", random.Random(5))
    twin = random.Random(5)
    mailbox = _mailbox("desk@provider.example", _refused_port())

    for failures, ceiling in [(1, 120), (2, 240), (3, 480), (4, 600), (5, 600)]:
        report = services.mailboxes_poll()
        assert report[mailbox.address].startswith("failed: ")
        mailbox.refresh_from_db()
        assert mailbox.poll_failures == failures
        wait = twin.uniform(0, ceiling)  # full jitter below a doubling ceiling, capped
        assert mailbox.next_poll_at - mailbox.last_polled_at == pytest.approx(
            timedelta(seconds=wait), abs=timedelta(milliseconds=1)
        )
        # Backing off: the scheduled polls leave it alone until its time has come.
        assert services.mailboxes_poll() == {}
        assert Mailbox.objects.get(pk=mailbox.pk).last_polled_at == mailbox.last_polled_at
        Mailbox.objects.filter(pk=mailbox.pk).update(next_poll_at=timezone.now())

    # Fixed: it points at a working server now; the next poll succeeds and clears the backoff.
    Mailbox.objects.filter(pk=mailbox.pk).update(
        imap_port=imap_account.port, username=imap_account.username
    )
    mailbox.refresh_from_db()
    mailbox.password = imap_account.password
    mailbox.save()
    imap_account.append(make_email(sender="rita@acme.example", subject="Back again"))
    assert services.mailboxes_poll() == {mailbox.address: "1 new, 0 duplicate"}
    mailbox.refresh_from_db()
    assert (mailbox.poll_failures, mailbox.next_poll_at, mailbox.last_error) == (0, None, "")
    assert mailbox.last_success_at == mailbox.last_polled_at


@pytest.mark.django_db
def test_a_mailbox_backing_off_is_skipped_and_the_others_are_polled(personas, imap_account):
    broken = _mailbox("broken@provider.example", _refused_port())
    working = _mailbox(
        "desk@provider.example",
        imap_account.port,
        username=imap_account.username,
        password=imap_account.password,
    )
    Mailbox.objects.filter(pk=broken.pk).update(
        poll_failures=3, next_poll_at=timezone.now() + timedelta(minutes=5)
    )
    assert tasks.poll_mailboxes() == {working.address: "0 new, 0 duplicate"}
    broken.refresh_from_db()
    assert (broken.poll_failures, broken.last_polled_at) == (3, None)

    out = StringIO()
    call_command("mail", "poll", stdout=out)  # an administrator asking now: every mailbox
    assert "broken@provider.example: failed" in out.getvalue()
    assert Mailbox.objects.get(pk=broken.pk).poll_failures == 4


# --- health -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_health_is_degraded_while_a_mailbox_fails_and_names_no_secrets(personas, settings):
    secret = "hunter2-imap-password"
    mailbox = _mailbox("secret-desk@provider.example", _refused_port(), password=secret)
    assert Client().get("/api/v1/health").json()["status"] == "ok"

    services.mailboxes_poll()

    response = Client().get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["mailboxes_failing"] == 1
    assert body["problems"] == [
        "1 mailbox(es) failed their latest poll; see Mailboxes in the admin."
    ]
    text = response.content.decode()
    for leak in (secret, mailbox.address, "provider.example", "127.0.0.1", "refused"):
        assert leak not in text

    Mailbox.objects.filter(pk=mailbox.pk).update(is_active=False)  # switched off: not counted
    assert Client().get("/api/v1/health").json()["checks"]["mailboxes_failing"] == 0


@pytest.mark.django_db
def test_the_admin_shows_which_mailboxes_fail_and_why(personas):
    failing = _mailbox("broken@provider.example", _refused_port())
    _mailbox("fine@provider.example", _refused_port())
    services.mailboxes_poll()
    Mailbox.objects.filter(address="fine@provider.example").update(poll_failures=0)
    client = Client()
    client.force_login(personas.admin)

    page = client.get("/admin/mail/mailbox/?polling=failing")
    assert page.status_code == 200
    assert [m.address for m in page.context["cl"].result_list] == [failing.address]
    html = page.content.decode()
    assert "FAILING (1 in a row)" in html and "ConnectionRefusedError" in html
