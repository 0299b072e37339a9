"""Emails show times in the recipient's zone, never in the zone of whoever caused them
(decision 37)."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from servio.accounts.services import organization_set_time_zone, user_update
from servio.mail import notices
from servio.mail.models import OutboundMessage
from servio.tickets.services import ticket_create, ticket_transition

pytestmark = pytest.mark.django_db

NOON_UTC = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)  # winter: New York UTC-5, Berlin UTC+1


def test_a_requester_in_new_york_reads_new_york_time_while_the_agent_is_in_berlin(
    personas, smtp_server, drain
):
    p = personas
    user_update(actor=p.requester_acme, user=p.requester_acme, time_zone="America/New_York")
    user_update(actor=p.agent_desk, user=p.agent_desk, time_zone="Europe/Berlin")
    with time_machine.travel(NOON_UTC, tick=False):
        ticket = ticket_create(actor=p.requester_acme, title="Laptop will not boot")
        ticket_transition(actor=p.agent_desk, ticket=ticket, transition="start")
        ticket_transition(
            actor=p.agent_desk,
            ticket=ticket,
            transition="resolve",
            values={"resolution_code": "fixed", "resolution_notes": "Reset the BIOS."},
        )
    # The handlers may run inside the agent's request, with the agent's zone active.
    with timezone.override(ZoneInfo("Europe/Berlin")):
        drain()
    ack = OutboundMessage.objects.get(template="ticket_created", recipient="rita@acme.example")
    assert "Thursday 15 January 2026, 07:00 EST" in ack.text
    assert "07:00 EST" in ack.html
    resolved = OutboundMessage.objects.get(
        template="status_resolved", recipient="rita@acme.example"
    )
    assert "was resolved on Thursday 15 January 2026, 07:00 EST" in resolved.text
    for message in (ack, resolved):
        assert "13:00" not in message.text and "12:00" not in message.text
    [mail] = smtp_server.to("rita@acme.example")[-1:]
    assert "07:00 EST" in mail.text


def test_sla_emails_say_the_due_time_in_each_agents_zone(personas, smtp_server):
    p = personas
    organization_set_time_zone(actor=p.admin, organization=p.provider, time_zone="Asia/Kolkata")
    user_update(actor=p.lead_desk, user=p.lead_desk, time_zone="Europe/Berlin")
    ticket = ticket_create(
        actor=p.agent_desk, title="Disk full", requester=p.requester_acme, team=p.team_desk
    )
    payload = {
        "ticket_id": ticket.pk,
        "metric": "resolution",
        "percent": 75,
        "policy": "Standard",
        "due_at": NOON_UTC.isoformat(),
    }
    notices.sla_threshold(event_id=uuid.uuid4(), payload=payload, breached=False)
    texts = {m.recipient: m.text for m in OutboundMessage.objects.filter(template="sla_warning")}
    assert "Due: Thursday 15 January 2026, 13:00 CET" in texts["lena@provider.example"]
    assert "Due: Thursday 15 January 2026, 17:30 IST" in texts["dana@provider.example"]


def test_the_migration_updates_templates_only_where_an_admin_left_them():
    import importlib

    from django.apps import apps

    from servio.mail.models import MailTemplate

    migration = importlib.import_module("servio.mail.migrations.0008_times_in_templates")
    migration.backwards(apps, None)  # as 0002 seeded them
    created = MailTemplate.objects.get(key="ticket_created")
    assert "{{ ticket.created_at }}" not in created.text + created.html
    resolved = MailTemplate.objects.get(key="status_resolved")
    resolved.text = "Edited by an admin: {{ ticket.reference }} is done."
    resolved.save()
    migration.forwards(apps, None)
    created.refresh_from_db()
    resolved.refresh_from_db()
    assert "we received your request on {{ ticket.created_at }}" in created.text
    assert "{{ ticket.created_at }}" in created.html
    assert resolved.text == "Edited by an admin: {{ ticket.reference }} is done."  # kept
    assert "was resolved{% if ticket.resolved_at %}" in resolved.html  # unedited part: new
