"""The workspace's writes refuse anyone but service desk staff themselves, not only its pages:
one rule (`servio.workspace.policies.require_workspace`) for the pages and the services."""

from __future__ import annotations

import pytest

from servio.audit.models import AuditEvent
from servio.core.errors import PermissionDenied
from servio.tickets.models import Ticket
from servio.workspace import policies, services
from servio.workspace.models import CannedResponse, SavedView
from tests.ui import make_ticket

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["requester_acme", "requester_globex"])
def test_requesters_are_refused_by_every_workspace_service(personas, who):
    requester = getattr(personas, who)
    ticket = make_ticket(personas, requester=requester)
    before = (Ticket.objects.count(), AuditEvent.objects.count())
    calls = {
        "saved_view_create": lambda: services.saved_view_create(
            actor=requester, name="Mine", queue="mine", filters={}
        ),
        "canned_response_create": lambda: services.canned_response_create(
            actor=requester, title="Hi", body="Hello"
        ),
        "tickets_bulk_apply": lambda: services.tickets_bulk_apply(
            actor=requester, tickets=[ticket], action="comment", values={"body": "x"}
        ),
        "ticket_log_for": lambda: services.ticket_log_for(
            actor=requester, requester=requester, team=None, assign_to_me=False, title="Again"
        ),
        "ticket_assign_to_me": lambda: services.ticket_assign_to_me(actor=requester, ticket=ticket),
    }
    for name, call in calls.items():
        with pytest.raises(PermissionDenied) as refused:
            call()
        assert "portal" in refused.value.detail, name
    assert (Ticket.objects.count(), AuditEvent.objects.count()) == before
    assert not SavedView.objects.exists() and not CannedResponse.objects.exists()


def test_a_deactivated_agent_is_refused(personas):
    agent = personas.agent_desk
    agent.is_active = False
    agent.save()
    with pytest.raises(PermissionDenied):
        services.canned_response_create(actor=agent, title="Hi", body="Hello")
    assert not CannedResponse.objects.exists()


@pytest.mark.parametrize("who", ["agent_desk", "lead_desk", "change_manager", "admin"])
def test_staff_use_the_workspace(personas, who):
    user = getattr(personas, who)
    policies.require_workspace(user)
    response = services.canned_response_create(actor=user, title="Hi", body="Hello")
    assert response.owner_id == user.pk
