"""Priority from the requester's words: "How bad is it?" gives the urgency, "Who is affected?"
the impact, the matrix the priority. The answers are data, edited in the admin (audited)."""

from __future__ import annotations

import pytest

from servio.audit.models import AuditEvent
from servio.core.errors import ValidationFailed
from servio.portal import selectors
from servio.portal.models import DEFAULT_ANSWERS, PortalAnswer
from servio.portal.services import ticket_report
from servio.tickets.models import Ticket
from tests.ui import told


@pytest.fixture
def rita(client, personas):
    client.force_login(personas.requester_acme)
    return client


def report(client, how_bad, affected, title="Cannot work", kind="incident"):
    return client.post(
        f"/portal/new/?kind={kind}", {"title": title, "how_bad": how_bad, "affected": affected}
    )


def test_the_migration_seeds_the_documented_defaults(db):
    rows = set(PortalAnswer.objects.values_list("question", "code", "wording", "level"))
    assert rows == {(q, c, w, int(level)) for q, c, w, level in DEFAULT_ANSWERS}
    assert PortalAnswer.objects.filter(is_active=True).count() == 6


@pytest.mark.parametrize(
    ("how_bad", "affected", "urgency", "impact", "priority"),
    [
        ("stops_work", "many", 1, 1, 1),
        ("stops_work", "several", 1, 2, 2),
        ("stops_work", "just_me", 1, 3, 3),
        ("slows_down", "many", 2, 1, 2),
        ("slows_down", "several", 2, 2, 3),
        ("slows_down", "just_me", 2, 3, 4),
        ("can_wait", "many", 3, 1, 3),
        ("can_wait", "just_me", 3, 3, 5),
    ],
)
def test_the_answers_give_urgency_impact_and_priority(
    rita, how_bad, affected, urgency, impact, priority
):
    response = report(rita, how_bad, affected)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.urgency, ticket.impact, ticket.priority) == (urgency, impact, priority)
    assert not ticket.priority_overridden and ticket.source == "portal"


def test_the_form_offers_the_answers_in_words_mildest_preselected(rita):
    page = rita.get("/portal/new/").content.decode()
    assert "How bad is it?" in page and "Who is affected?" in page
    assert "It stops my work completely" in page and "Many people" in page
    assert 'value="can_wait" id="id_how_bad_2" checked' in page
    assert 'value="just_me" id="id_affected_0" checked' in page
    page = rita.get("/portal/new/?kind=request").content.decode()
    assert "How much does waiting for it hold you up?" in page and "Who needs it?" in page


def test_bad_answers_get_errors_beside_their_fields(rita):
    response = report(rita, "apocalyptic", "")
    assert told(response) == 422
    page = response.content.decode()
    assert 'id="id_how_bad-errors"' in page and 'id="id_affected-errors"' in page
    assert 'aria-describedby="id_how_bad-errors"' in page
    assert not Ticket.objects.exists()


def test_the_service_refuses_an_answer_it_does_not_offer(personas):
    with pytest.raises(ValidationFailed) as caught:
        ticket_report(
            actor=personas.requester_acme,
            title="Printer",
            how_bad="apocalyptic",
            affected="nobody",
        )
    assert set(caught.value.errors) == {"how_bad", "affected"}
    assert not Ticket.objects.exists()


def test_admins_edit_the_wording_and_meaning_in_the_admin(client, rita, personas):
    answer = PortalAnswer.objects.get(code="just_me")
    client.force_login(personas.admin)
    page = client.get("/admin/portal/portalanswer/").content.decode()
    assert "Only me" in page and "impact 3 - Low" in page
    response = client.post(
        f"/admin/portal/portalanswer/{answer.pk}/change/",
        {"wording": "Just me, but I am the only payroll clerk", "level": 2, "order": 3,
         "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    assert AuditEvent.objects.filter(action="portalanswer.updated_in_admin").exists()
    rita.force_login(personas.requester_acme)
    assert "Just me, but I am the only payroll clerk" in rita.get("/portal/new/").content.decode()
    report(rita, "stops_work", "just_me")
    ticket = Ticket.objects.get()
    assert (ticket.urgency, ticket.impact, ticket.priority) == (1, 2, 2)


def test_a_switched_off_answer_is_no_longer_offered_or_accepted(rita):
    PortalAnswer.objects.filter(code="several").update(is_active=False)
    assert "My team or several colleagues" not in rita.get("/portal/new/").content.decode()
    response = report(rita, "stops_work", "several")
    assert told(response) == 422 and 'id="id_affected-errors"' in response.content.decode()


def test_a_question_without_answers_is_not_asked_and_counts_as_low(rita):
    PortalAnswer.objects.filter(question="affected").update(is_active=False)
    page = rita.get("/portal/new/").content.decode()
    assert "Who is affected?" not in page and "How bad is it?" in page
    rita.post("/portal/new/", {"title": "Slow", "how_bad": "stops_work"})
    ticket = Ticket.objects.get()
    assert (ticket.urgency, ticket.impact) == (1, 3)


def test_an_empty_table_falls_back_to_the_defaults(db):
    PortalAnswer.objects.all().delete()
    found = selectors.answers()
    assert [a.code for a in found["how_bad"]] == ["stops_work", "slows_down", "can_wait"]
    assert [a.code for a in found["affected"]] == ["just_me", "several", "many"]


def test_the_admin_offers_no_delete(client, personas):
    client.force_login(personas.admin)
    answer = PortalAnswer.objects.first()
    response = client.post(f"/admin/portal/portalanswer/{answer.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert PortalAnswer.objects.filter(pk=answer.pk).exists()
