"""Dead letters of every handler are listed in the admin and requeued there, audited
(issue 13, item 10)."""

from __future__ import annotations

import pytest
from django.test import Client

from servio.audit.models import AuditEvent
from servio.core import outbox
from servio.core.errors import PermissionDenied
from servio.core.models import OutboxMessage
from servio.core.services import dead_letters_requeue

Status = OutboxMessage.Status
URL = "/admin/core/deadletter/"


@pytest.fixture
def failed(db, registry, settings):
    """Two handlers of different apps whose rows died, and one row still retrying."""
    settings.SERVIO_OUTBOX_MAX_ATTEMPTS = 1
    broken = {"on": True}

    def flaky(event: outbox.Event) -> None:
        if broken["on"]:
            raise RuntimeError(f"{event.topic} handler is broken")

    outbox.handler("sla.escalation", name="sla.escalation_actions")(flaky)
    outbox.handler("webhook.sent", name="integrations.webhook", external=True)(flaky)
    outbox.publish("sla.escalation", {"ticket_id": 1})
    outbox.publish("webhook.sent", {"url": "https://hooks.example/x"})
    outbox.drain()
    settings.SERVIO_OUTBOX_MAX_ATTEMPTS = 5
    outbox.publish("webhook.sent", {"url": "https://hooks.example/y"})
    outbox.drain()
    return broken


@pytest.fixture
def admin_client(personas) -> Client:
    client = Client()
    client.force_login(personas.admin)
    return client


def test_the_admin_lists_the_dead_letters_of_every_handler_and_only_those(failed, admin_client):
    page = admin_client.get(URL)
    assert page.status_code == 200
    listed = {row.handler for row in page.context["cl"].result_list}
    assert listed == {"sla.escalation_actions", "integrations.webhook"}
    assert all(row.status == Status.DEAD for row in page.context["cl"].result_list)
    assert "handler is broken" in page.content.decode()
    assert OutboxMessage.objects.filter(status=Status.PENDING).count() == 1  # not listed


def test_requeueing_in_the_admin_is_audited_per_row_and_delivers(failed, admin_client, personas):
    dead = list(OutboxMessage.objects.filter(status=Status.DEAD).order_by("id"))
    failed["on"] = False
    page = admin_client.post(
        URL, {"action": "requeue", "_selected_action": [row.pk for row in dead]}
    )
    assert page.status_code == 302

    for row in dead:
        row.refresh_from_db()
        assert (row.status, row.attempts, row.last_error) == (Status.PENDING, 0, "")
    events = list(AuditEvent.objects.filter(action="outbox.dead_letter_requeued").order_by("id"))
    assert [(e.object_type, e.object_id, e.actor_id) for e in events] == [
        ("core.outboxmessage", str(row.pk), personas.admin.pk) for row in dead
    ]
    assert events[0].changes["status"] == ["dead", "pending"]
    assert "handler is broken" in events[0].changes["last_error"][0]  # the cause stays on record

    outbox.drain()
    delivered = OutboxMessage.objects.filter(pk__in=[row.pk for row in dead])
    assert set(delivered.values_list("status", flat=True)) == {Status.DELIVERED}


def test_only_administrators_requeue_and_only_dead_rows(failed, personas):
    pending = OutboxMessage.objects.get(status=Status.PENDING)
    with pytest.raises(PermissionDenied):
        dead_letters_requeue(actor=personas.agent_desk, ids=[pending.pk])
    assert dead_letters_requeue(actor=personas.admin, ids=[pending.pk]) == []
    assert not AuditEvent.objects.filter(action="outbox.dead_letter_requeued").exists()
    assert OutboxMessage.objects.get(pk=pending.pk).attempts == 1  # untouched


def test_agents_do_not_see_the_list(failed, personas):
    client = Client()
    client.force_login(personas.agent_desk)
    assert client.get(URL).status_code in (302, 403)
