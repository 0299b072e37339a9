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


# --- the priority matrix as a grid (issue 14, item 11) ----------------------------------------

MATRIX_URL = "/admin/tickets/priorityrule/"


def matrix_post(**change) -> dict:
    data = {f"cell_{r.impact}_{r.urgency}": str(r.priority) for r in PriorityRule.objects.all()}
    data.update(change)
    return data


def test_the_matrix_is_a_grid_of_selects(admin_client):
    page = admin_client.get(MATRIX_URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('<select name="cell_') == 9
    assert '<select name="cell_1_3" required id="id_cell_1_3"' in html
    assert "Urgency 1 - High" in html and "Impact 3 - Low" in html
    assert "<textarea" not in html
    cell = PriorityRule.objects.get(impact=1, urgency=1)
    assert f'<option value="{cell.priority}" selected>' in html


def test_the_grid_saves_each_changed_cell_audited(admin_client):
    before = {(r.impact, r.urgency): r.priority for r in PriorityRule.objects.all()}
    response = admin_client.post(MATRIX_URL, matrix_post(cell_3_3="4", cell_2_1="1"))
    assert response.status_code == 302
    after = {(r.impact, r.urgency): r.priority for r in PriorityRule.objects.all()}
    assert after == {**before, (3, 3): 4, (2, 1): 1}
    events = AuditEvent.objects.filter(action="priorityrule.updated_in_admin")
    assert sorted(e.changes["priority"][1] for e in events) == [1, 4]
    assert {tuple(e.changes) for e in events} == {("priority",)}
    # Saved again unchanged: nothing to record.
    assert admin_client.post(MATRIX_URL, matrix_post()).status_code == 302
    assert events.count() == 2


def test_the_grid_names_the_cell_left_empty_and_saves_nothing(admin_client):
    before = list(PriorityRule.objects.values_list("impact", "urgency", "priority"))
    response = admin_client.post(MATRIX_URL, matrix_post(cell_3_3="4", cell_1_2=""))
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"cell_1_2"}
    assert "impact 1 - High and urgency 2 - Medium" in form.errors["cell_1_2"][0]
    assert 'id="id_cell_1_2-errors"' in response.content.decode()
    bad = admin_client.post(MATRIX_URL, matrix_post(cell_2_2="9"))
    assert set(bad.context["form"].errors) == {"cell_2_2"}
    assert list(PriorityRule.objects.values_list("impact", "urgency", "priority")) == before
    assert not AuditEvent.objects.filter(action__startswith="priorityrule.").exists()


def test_the_grid_restores_a_missing_cell(admin_client):
    PriorityRule.objects.filter(impact=2, urgency=3).delete()
    page = admin_client.get(MATRIX_URL)
    assert '<option value="" selected>' in page.content.decode()
    response = admin_client.post(MATRIX_URL, {**matrix_post(), "cell_2_3": "4"})
    assert response.status_code == 302
    assert PriorityRule.objects.get(impact=2, urgency=3).priority == 4
    assert AuditEvent.objects.filter(action="priorityrule.created_in_admin").count() == 1
