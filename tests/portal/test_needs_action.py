"""The portal's list: what waits for the requester comes first, with the action named; open,
closed and all; search of their own tickets; never another organisation's tickets."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from servio.portal import selectors
from servio.surveys.models import SurveyInvitation
from servio.surveys.services import make_token, survey_answer, survey_invite
from servio.tickets import services
from tests.ui import make_ticket


@pytest.fixture
def rita(client, personas):
    client.force_login(personas.requester_acme)
    return client


def hold(personas, ticket, reason="awaiting_requester"):
    return services.ticket_transition(
        actor=personas.agent_desk,
        ticket=ticket,
        transition="hold",
        values={"hold_reason": reason},
    )


def resolve(personas, ticket):
    return services.ticket_transition(
        actor=personas.agent_desk,
        ticket=ticket,
        transition="resolve",
        values={"resolution_code": "fixed", "resolution_notes": "Replaced the toner."},
    )


def close(personas, ticket):
    return services.ticket_transition(actor=ticket.requester, ticket=ticket, transition="close")


def invite(ticket):
    return survey_invite(ticket=ticket, event_id=uuid.uuid4())


def waiting_section(response) -> list[tuple[str, list[str]]]:
    """(reference, [action codes]) in the order the "Needs your action" section lists them."""
    page = response.content.decode()
    if 'id="needs-action"' not in page:
        return []
    section = page.split('id="needs-action"', 1)[1].split("</section>", 1)[0]
    items = re.split(r'data-needs-action="', section)[1:]
    return [(item[:10], re.findall(r'data-action-code="(\w+)"', item)) for item in items]


def test_what_waits_for_the_requester_comes_first_with_the_action_named(rita, personas):
    answered = make_ticket(personas, title="Answer me")
    hold(personas, answered)
    confirm = make_ticket(personas, title="Confirm me")
    resolve(personas, confirm)
    invite(confirm)
    rate = make_ticket(personas, title="Rate me")
    resolve(personas, rate)
    close(personas, rate)
    invite(rate)
    # Nothing asked of the requester on these:
    vendor = make_ticket(personas, title="Waiting for a vendor")
    hold(personas, vendor, "awaiting_vendor")
    make_ticket(personas, title="Just logged")
    rated = make_ticket(personas, title="Already rated")
    resolve(personas, rated)
    close(personas, rated)
    survey_answer(token=make_token(invite(rated).invitation), rating=5)
    expired = make_ticket(personas, title="Survey expired")
    resolve(personas, expired)
    close(personas, expired)
    SurveyInvitation.objects.filter(pk=invite(expired).invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    response = rita.get("/portal/")
    assert waiting_section(response) == [
        (answered.reference, ["answer"]),
        (confirm.reference, ["confirm", "rate"]),
        (rate.reference, ["rate"]),
    ]
    page = response.content.decode()
    assert "Needs your action" in page
    assert f'href="/portal/t/{answered.reference}/#reply"' in page
    assert f'href="/portal/t/{confirm.reference}/#resolution"' in page
    assert f'href="/portal/t/{rate.reference}/#rate"' in page
    assert "Answer our question" in page and "Confirm it is solved, or reopen it" in page
    # The section comes before the list, which still lists every ticket.
    assert page.index('id="needs-action"') < page.index('id="ticket-list"')
    listed = re.findall(r"data-ticket-link>((?:INC|REQ)-\d{6})<", page)
    assert len(listed) == 7

    # The ticket page names the same actions.
    page = rita.get(f"/portal/t/{confirm.reference}/").content.decode()
    assert re.findall(r'data-my-action="(\w+)"', page) == ["confirm", "rate"]
    page = rita.get(f"/portal/t/{vendor.reference}/").content.decode()
    assert "data-my-action" not in page


def test_nothing_waiting_shows_no_section(rita, personas):
    make_ticket(personas)
    response = rita.get("/portal/")
    assert waiting_section(response) == []
    assert "<h1" in response.content.decode().split('id="ticket-list"', 1)[1]


def test_colleagues_and_other_organisations_tickets_never_wait_for_you(client, personas):
    personas.acme.requesters_see_org_tickets = True
    personas.acme.save()
    carls = make_ticket(personas, requester=personas.colleague_acme, title="Carl's printer")
    resolve(personas, carls)
    invite(carls)
    ginas = make_ticket(personas, requester=personas.requester_globex, title="Gina's modem")
    services.ticket_transition(
        actor=personas.agent_network,
        ticket=ginas,
        transition="hold",
        values={"hold_reason": "awaiting_requester"},
    )
    client.force_login(personas.requester_acme)
    assert waiting_section(client.get("/portal/")) == []
    organisation = client.get("/portal/?scope=organization").content.decode()
    assert carls.reference in organisation  # Rita may read it...
    assert ginas.reference not in organisation  # ...never another organisation's
    page = client.get(f"/portal/t/{carls.reference}/").content.decode()
    assert "data-my-action" not in page and 'data-action="close"' not in page
    assert "Carl Acme is asked to confirm it is solved." in page
    assert client.get(f"/portal/t/{ginas.reference}/").status_code == 404
    client.force_login(personas.colleague_acme)
    assert waiting_section(client.get("/portal/")) == [(carls.reference, ["confirm", "rate"])]


def test_the_query_and_the_rule_agree(personas):
    """`needs_action` filters in SQL what `actions_for` decides in Python: the same tickets."""
    rita = personas.requester_acme
    made = []
    for step in ("new", "start", "awaiting_requester", "awaiting_vendor", "resolve", "close"):
        for with_survey in (False, True):
            ticket = make_ticket(personas, title=step)
            if step == "start":
                services.ticket_transition(
                    actor=personas.agent_desk, ticket=ticket, transition=step
                )
            elif step.startswith("awaiting"):
                hold(personas, ticket, step)
            elif step in ("resolve", "close"):
                resolve(personas, ticket)
                if step == "close":
                    close(personas, ticket)
            if with_survey:
                invite(ticket)
            made.append(ticket)
    found, more = selectors.needs_action(user=rita, limit=100)
    expected = set()
    for ticket in made:
        ticket.refresh_from_db()
        survey = selectors.open_survey(user=rita, ticket=ticket)
        if selectors.actions_for(ticket=ticket, survey_open=survey is not None):
            expected.add(ticket.pk)
    assert {w.ticket.pk for w in found} == expected and not more
    assert len(expected) == 8  # the six with a survey, and those on hold for her or resolved


def test_the_list_caps_what_waits_and_says_so(rita, personas, monkeypatch):
    monkeypatch.setattr(selectors, "NEEDS_ACTION_LIMIT", 2)
    for n in range(3):
        hold(personas, make_ticket(personas, title=f"Question {n}"))
    response = rita.get("/portal/")
    assert len(waiting_section(response)) == 2
    assert "More tickets wait for you" in response.content.decode()


def refs(response) -> list[str]:
    return re.findall(r"data-ticket-link>((?:INC|REQ)-\d{6})<", response.content.decode())


def test_open_closed_and_all(rita, personas):
    open_one = make_ticket(personas, title="Still broken")
    closed_one = make_ticket(personas, title="Fixed long ago")
    resolve(personas, closed_one)
    close(personas, closed_one)
    cancelled = make_ticket(personas, title="Never mind")
    services.ticket_transition(
        actor=personas.requester_acme,
        ticket=cancelled,
        transition="cancel",
        values={"reason": "Not needed"},
    )
    assert set(refs(rita.get("/portal/"))) == {
        open_one.reference,
        closed_one.reference,
        cancelled.reference,
    }
    assert refs(rita.get("/portal/?show=open")) == [open_one.reference]
    assert set(refs(rita.get("/portal/?show=closed"))) == {
        closed_one.reference,
        cancelled.reference,
    }
    page = rita.get("/portal/?show=open").content.decode()
    assert 'data-show="open" aria-current="page"' in page
    # A bad value is named beside the filter and left out.
    response = rita.get("/portal/?show=sideways")
    assert response.status_code == 200
    assert 'id="id_show-errors"' in response.content.decode()
    assert len(refs(response)) == 3


def test_search_finds_your_tickets_by_words_or_number(rita, personas):
    printer = make_ticket(personas, title="Printer jams on floor 3")
    make_ticket(personas, title="Laptop battery swollen")
    carls = make_ticket(personas, requester=personas.colleague_acme, title="Printer in room 9")
    ginas = make_ticket(personas, requester=personas.requester_globex, title="Printer at Globex")
    assert refs(rita.get("/portal/?q=printer")) == [printer.reference]
    assert refs(rita.get(f"/portal/?q={printer.reference}")) == [printer.reference]
    assert refs(rita.get(f"/portal/?q={ginas.reference}")) == []
    assert refs(rita.get(f"/portal/?q={carls.reference}")) == []  # not shared: not hers
    personas.acme.requesters_see_org_tickets = True
    personas.acme.save()
    assert set(refs(rita.get("/portal/?scope=organization&q=printer"))) == {
        printer.reference,
        carls.reference,
    }
    assert refs(rita.get("/portal/?q=printer&show=closed")) == []
    page = rita.get("/portal/?q=toaster").content.decode()
    assert "No tickets match “toaster”." in page


def test_a_bad_search_is_named_beside_the_field_and_left_out(rita, personas):
    make_ticket(personas)
    response = rita.get("/portal/", {"q": "x" * 201})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_q-errors"' in page and 'aria-describedby="id_q-errors"' in page
    assert len(refs(response)) == 1


def test_paging_keeps_the_filters(rita, personas, monkeypatch):
    from servio.portal import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for n in range(3):
        make_ticket(personas, title=f"Printer {n}")
    make_ticket(personas, title="Laptop")
    page = rita.get("/portal/?q=printer&show=open").content.decode()
    link = (
        re.search(r'href="(\?[^"]*cursor=[^"]*)" rel="next"', page).group(1).replace("&amp;", "&")
    )
    assert "q=printer" in link and "show=open" in link
    second = rita.get("/portal/" + link)
    assert len(refs(second)) == 1 and "Laptop" not in second.content.decode()


# Session, the user with their organisation (one query: its time zone is read on every page);
# what waits (the watchers of `visible_to`, the tickets); the list (watchers, the page); the
# navigation's unread count.
HOME_QUERIES = 7


def test_the_list_costs_the_same_whatever_the_number_of_tickets(
    rita, personas, django_assert_num_queries
):
    def some(n):
        for i in range(n):
            ticket = make_ticket(personas, title=f"Batch {n}-{i}")
            if i % 2:
                hold(personas, ticket)
            else:
                resolve(personas, ticket)
                invite(ticket)

    some(1)
    rita.get("/portal/")  # fills the per-process configuration caches
    with django_assert_num_queries(HOME_QUERIES):
        rita.get("/portal/")
    some(6)
    with django_assert_num_queries(HOME_QUERIES):
        response = rita.get("/portal/?show=all&q=batch")
    assert len(waiting_section(response)) == 7
