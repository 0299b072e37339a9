"""The Django admin: admins edit the configuration (audited) and browse tickets read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from servio.audit.models import AuditEvent
from servio.tickets.models import PriorityRule, Service, Ticket
from tests.tickets.helpers import log

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(personas):
    client = Client()
    client.force_login(personas.admin)
    return client


def test_admins_browse_tickets_but_cannot_add_change_or_delete(personas, admin_client):
    ticket = log(personas.requester_acme, title="Printer on fire")
    base = "/admin/tickets/ticket/"
    listing = admin_client.get(base)
    assert listing.status_code == 200 and b"Printer on fire" in listing.content
    found = admin_client.get(base, {"q": ticket.reference})
    assert ticket.reference.encode() in found.content
    page = admin_client.get(f"{base}{ticket.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client.get(f"{base}add/").status_code == 403
    assert admin_client.get(f"{base}{ticket.pk}/delete/").status_code == 403
    posted = admin_client.post(f"{base}{ticket.pk}/change/", {"title": "Renamed"})
    assert posted.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).title == "Printer on fire"


def test_the_priority_matrix_is_edited_in_place_and_audited(admin_client):
    cell = PriorityRule.objects.get(impact=3, urgency=3)
    base = "/admin/tickets/priorityrule/"
    assert admin_client.get(base).status_code == 200
    assert admin_client.get(f"{base}add/").status_code == 403  # the nine cells exist
    assert admin_client.get(f"{base}{cell.pk}/delete/").status_code == 403
    changed = admin_client.post(f"{base}{cell.pk}/change/", {"priority": 4})
    assert changed.status_code == 302
    cell.refresh_from_db()
    assert (cell.impact, cell.urgency, cell.priority) == (3, 3, 4)
    event = AuditEvent.objects.get(action="priorityrule.updated_in_admin")
    assert event.changes == {"priority": [5, 4]}


def test_services_and_categories_are_configured_in_the_admin(admin_client):
    added = admin_client.post(
        "/admin/tickets/service/add/", {"name": "Payroll", "description": "", "is_active": "on"}
    )
    assert added.status_code == 302
    assert Service.objects.filter(name="Payroll").exists()
    assert AuditEvent.objects.filter(action="service.created_in_admin").exists()
    parent = admin_client.post(
        "/admin/tickets/category/add/", {"name": "Hardware", "is_active": "on"}
    )
    assert parent.status_code == 302
    assert admin_client.get("/admin/tickets/category/").status_code == 200


def test_agents_have_no_admin(personas):
    client = Client()
    client.force_login(personas.agent_desk)
    response = client.get("/admin/tickets/ticket/")
    assert response.status_code == 302 and "/login/" in response["Location"]
