"""Ticket numbers written in descriptions and comments become links on the ticket page, only
to tickets the reader may see, with one query per rendering whatever their number; another
organisation's ticket stays plain text and costs what a missing one costs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servio.tickets import services
from tests.ui import make_ticket

HX = {"HX-Request": "true"}


@pytest.fixture
def dana(client, personas):
    client.force_login(personas.agent_desk)
    return client


def _link(reference: str) -> str:
    return f'<a href="/desk/t/{reference}/" rel="noopener noreferrer nofollow">{reference}</a>'


def test_visible_numbers_are_links_and_others_stay_text(dana, personas):
    ours = make_ticket(personas, title="Printer jams")
    theirs = make_ticket(personas, requester=personas.requester_globex, title="Globex secret")
    short = f"INC-{ours.number}"  # as people type it
    ticket = make_ticket(
        personas, title="Again", description=f"Like {ours.reference} and {theirs.reference}."
    )
    services.comment_add(
        actor=personas.agent_desk,
        ticket=ticket,
        body=f"See {short}, {theirs.reference} and INC-999999; `{ours.reference}` in code.",
        internal=True,
    )
    page = dana.get(f"/desk/t/{ticket.reference}/").content.decode()
    assert f"Like {_link(ours.reference)} and {theirs.reference}." in page
    assert (
        f'See <a href="/desk/t/{ours.reference}/" rel="noopener noreferrer nofollow">{short}</a>,'
        f" {theirs.reference} and INC-999999; <code>{ours.reference}</code> in code." in page
    )
    assert f'href="/desk/t/{theirs.reference}/"' not in page
    assert "Globex secret" not in page and "INC-999999/" not in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, headers=HX).status_code == 200
    return len(ctx.captured_queries)


def test_one_query_per_rendering_and_no_difference_between_hidden_and_missing(dana, personas):
    ours = make_ticket(personas, title="Ours")
    theirs = make_ticket(personas, requester=personas.requester_globex, title="Theirs")
    cases = {
        "none": "No number here",
        "visible": f"See {ours.reference}",
        "hidden": f"See {theirs.reference}",
        "missing": "See INC-999999",
        "many": " ".join(f"INC-{n:06d}" for n in range(1, 60)) + f" {ours.reference}",
    }
    counts = {}
    for case, body in cases.items():
        ticket = make_ticket(personas, title=case)
        services.comment_add(actor=personas.agent_desk, ticket=ticket, body=body)
        url = f"/desk/t/{ticket.reference}/part/timeline/"
        _queries(dana, url)  # fills the per-process caches
        counts[case] = _queries(dana, url)
    assert counts["visible"] == counts["hidden"] == counts["missing"] == counts["many"]
    assert counts["visible"] == counts["none"] + 1


def test_the_ticket_page_pins_its_queries_with_numbers_in_it(
    dana, personas, django_assert_num_queries
):
    ours = make_ticket(personas, title="Ours")
    ticket = make_ticket(personas, title="Again", description=f"Like {ours.reference}")
    services.comment_add(actor=personas.agent_desk, ticket=ticket, body=f"See {ours.reference}")
    url = f"/desk/t/{ticket.reference}/"
    dana.get(url)  # fills the per-process caches
    plain = make_ticket(personas, title="Plain", description="Nothing")
    services.comment_add(actor=personas.agent_desk, ticket=plain, body="Nothing")
    dana.get(f"/desk/t/{plain.reference}/")
    # Session, user, ticket, configuration, clocks, timeline, names, side panel...: the page's
    # count, which a description or comment without a ticket number does not change.
    without = 16
    with django_assert_num_queries(without):
        dana.get(f"/desk/t/{plain.reference}/")
    # One query for the description's numbers, one for the comments'.
    with django_assert_num_queries(without + 2):
        page = dana.get(url).content.decode()
    assert page.count(_link(ours.reference)) == 2


def test_in_the_portal_numbers_link_to_the_requester_s_own_pages(client, personas):
    """The portal's conversation is the same timeline: a requester's links go to the portal,
    and only to tickets they may see."""
    own = make_ticket(personas, title="My other one")
    colleague = make_ticket(personas, requester=personas.colleague_acme, title="Carl's")
    ticket = make_ticket(personas, title="Again")
    services.comment_add(
        actor=personas.agent_desk,
        ticket=ticket,
        body=f"Same as {own.reference} and {colleague.reference}",
    )
    client.force_login(personas.requester_acme)
    page = client.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert (
        f'<a href="/portal/t/{own.reference}/" rel="noopener noreferrer nofollow">'
        f"{own.reference}</a> and {colleague.reference}" in page
    )
    assert "/desk/" not in page
