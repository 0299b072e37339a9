"""`servio generate`: the counts asked for, every kind, valid rows and an intact audit chain."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from servio.accounts.models import Team, User
from servio.audit.verification import audit_verify
from servio.tickets import numbering
from servio.tickets.models import Comment, Ticket
from servio.tickets.services import ticket_create
from tests.demo.checks import ticket_problems

pytestmark = pytest.mark.django_db


def test_generate_writes_what_was_asked_and_keeps_the_chain(capsys):
    call_command("generate", "--tickets", "500", "--batch", "200", "--seed", "4", "--no-progress")
    assert "Generated 500 tickets" in capsys.readouterr().out
    assert Ticket.objects.count() == 500
    kinds = set(Ticket.objects.values_list("kind", flat=True))
    assert {"incident", "request"} <= kinds and len(kinds) >= 4
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert {"closed", "cancelled"} <= statuses
    assert Comment.objects.count() > 500
    assert Team.objects.count() == 5 and User.objects.filter(role="requester").count() >= 200
    result = audit_verify()
    assert result.ok, result.reason
    assert ticket_problems() == []

    # A second run adds to the first; the services number new tickets after the loaded ones.
    call_command("generate", "--tickets", "120", "--seed", "5", "--no-progress")
    assert Ticket.objects.count() == 620
    assert audit_verify().ok
    newest = Ticket.objects.filter(kind="incident").order_by("-number").first()
    agent = User.objects.get(email="agent@example.com")
    requester = User.objects.filter(role="requester").first()
    ticket = ticket_create(actor=agent, title="After the load", requester=requester)
    assert ticket.number == newest.number + 1 or connection.vendor == "postgresql"
    assert ticket.number > newest.number
    assert numbering.reserve("incident", 1)[0] > ticket.number
    assert audit_verify().ok


def test_generate_refuses_nonsense():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("generate", "--tickets", "0", "--no-progress")
