"""The queue tells more (issue 14, item 5): queue links with counts from one grouped query,
filters as searchable pickers, an SLA column that names its clock, and cells a phone lays out
as cards."""

from __future__ import annotations

import re

import pytest

from servio.tickets import services
from servio.workspace import selectors
from tests.ui import make_ticket, sla_policy


def _counts(response) -> dict[str, str]:
    """The counts the page loads after itself: one out-of-band badge per counted queue."""
    html = response.content.decode()
    return dict(
        re.findall(r'id="queue-count-(\w+)" data-queue-count hx-swap-oob="true">(\d+)', html)
    )


def test_queue_links_count_the_open_tickets_of_each_work_queue(client, personas):
    sla_policy()
    dana = personas.agent_desk
    mine = make_ticket(personas, title="Mine", impact=1, urgency=1)  # responded to in 30 min
    services.ticket_assign(actor=dana, ticket=mine, team=personas.team_desk, assignee=dana)
    team = make_ticket(personas, title="Team")
    services.ticket_assign(actor=dana, ticket=team, team=personas.team_desk, assignee=None)
    make_ticket(personas, title="Loose")
    done = make_ticket(personas, title="Done")
    services.ticket_transition(
        actor=dana, ticket=done, transition="cancel", values={"reason": "Duplicate"}
    )
    make_ticket(personas, requester=personas.requester_globex, title="Not Dana's to see")
    client.force_login(dana)
    page = client.get("/desk/?queue=all").content.decode()
    # The page asks for its counts once it is shown; recent and all tickets carry none.
    assert 'hx-get="/desk/counts/" hx-trigger="load"' in page
    assert re.findall(r'id="queue-count-(\w+)"', page) == [
        "mine",
        "teams",
        "unassigned",
        "breaching",
    ]
    # Open tickets only, and only those Dana may see (the Globex one is not hers to count);
    # "breaching soon" counts those due within the hour or overdue.
    counts = _counts(client.get("/desk/counts/"))
    assert counts == {"mine": "1", "teams": "2", "unassigned": "2", "breaching": "1"}
    assert selectors.queue_counts(user=dana) == {
        "mine": 1,
        "teams": 2,
        "unassigned": 2,
        "breaching": 1,
    }
    client.force_login(personas.requester_acme)
    assert client.get("/desk/counts/").status_code == 404


def test_the_counts_endpoint_costs_the_same_whatever_the_desk(
    client, personas, django_assert_num_queries
):
    sla_policy()
    client.force_login(personas.agent_desk)
    make_ticket(personas)
    client.get("/desk/counts/")  # warms the per-process caches
    with django_assert_num_queries(COUNTS_QUERIES):
        client.get("/desk/counts/")
    for n in range(8):
        make_ticket(personas, title=f"More {n}", impact=1 + n % 3)
    with django_assert_num_queries(COUNTS_QUERIES):
        client.get("/desk/counts/")


# Session and user, the configuration caches' token (once a request), the watcher look-up
# of the visibility rule, and the grouped count.
COUNTS_QUERIES = 5


def test_queue_counts_are_one_grouped_query(personas, django_assert_num_queries):
    make_ticket(personas)
    dana = personas.agent_desk
    selectors.queue_counts(user=dana)  # fills the per-process scope cache
    # Outside a request the configuration caches check their token on each use, and the
    # visibility rule reads the agent's watched tickets; the counts are one statement.
    with django_assert_num_queries(4) as captured:
        selectors.queue_counts(user=dana)
    on_tickets = [q["sql"] for q in captured.captured_queries if '"tickets_ticket"' in q["sql"]]
    assert len(on_tickets) == 1 and on_tickets[0].count("COUNT(") == 4


def test_the_sla_column_names_the_clock_it_shows(client, personas):
    no_sla = make_ticket(personas, title="Logged before the SLA existed")
    sla_policy()
    ticket = make_ticket(personas, title="Slow", urgency=1, impact=1)
    client.force_login(personas.agent_desk)
    row = _row(client.get("/desk/?queue=all"), ticket.reference)
    assert "Response due in" in row and 'data-sla-words="Response"' in row
    services.comment_add(actor=personas.agent_desk, ticket=ticket, body="On it")  # responded
    row = _row(client.get("/desk/?queue=all"), ticket.reference)
    assert "Resolution due in" in row and 'data-sla-words="Resolution"' in row
    assert "no SLA clock running" in _row(client.get("/desk/?queue=all"), no_sla.reference)


def _row(response, reference: str) -> str:
    html = response.content.decode()
    found = re.search(
        rf"<tr data-ticket-row>(?:(?!</tr>).)*{reference}(?:(?!</tr>).)*</tr>", html, re.S
    )
    assert found, reference
    return found.group(0)


def test_filters_are_searchable_pickers_that_keep_the_choice(client, personas):
    client.force_login(personas.agent_desk)
    html = client.get(
        f"/desk/?queue=all&status=new&status=on_hold&team={personas.team_desk.pk}"
    ).content.decode()
    assert "<select" in html and " multiple" not in html  # no multi-select boxes
    for name in ("status", "priority", "kind", "team", "organization", "service"):
        assert f'<fieldset class="picker-list" id="id_{name}"' in html, name
    assert '<input type="checkbox" name="status" value="new" checked>' in html
    assert '<input type="checkbox" name="status" value="in_progress">' in html
    assert (
        '<span id="id_status-chosen" data-picker-chosen data-picker-empty="Any">New, On hold'
        in html
    )
    assert 'data-picker-empty="Any">Any</span>' in html  # priority: nothing chosen
    assert f'name="team" value="{personas.team_desk.pk}" checked' in html


def test_every_row_has_the_cells_a_phone_card_shows(client, personas):
    sla_policy()
    ticket = make_ticket(personas, title="Card")
    client.force_login(personas.agent_desk)
    row = _row(client.get("/desk/?queue=all"), ticket.reference)
    for cell in ("cell-number", "cell-title", "cell-status", "cell-priority", "cell-sla",
                 "cell-requester"):  # fmt: skip
        assert f'class="{cell}' in row or f' {cell}"' in row or f" {cell} " in row, cell
    assert "Rita Acme" in row


# The unassigned queue's page: one query fewer than before (the SLA clocks of the rows are
# read in one), the counts come after it; a lead's or an admin's page also reads the teams
# they may share with.
PAGE_QUERIES = {"agent_desk": 12, "lead_desk": 13, "admin": 12}


@pytest.mark.parametrize("who", sorted(PAGE_QUERIES))
def test_queue_page_query_count_is_pinned(client, personas, who, django_assert_num_queries):
    """Counts, saved views and sharing cost a fixed number of queries, whatever the rows."""
    sla_policy()
    user = getattr(personas, who)
    for n in range(3):
        make_ticket(personas, title=f"T{n}")
    client.force_login(user)
    client.get("/desk/?queue=unassigned")  # warms the per-process caches
    with django_assert_num_queries(PAGE_QUERIES[who]):
        client.get("/desk/?queue=unassigned")
    for n in range(10):
        make_ticket(personas, title=f"U{n}")
    with django_assert_num_queries(PAGE_QUERIES[who]):
        client.get("/desk/?queue=unassigned")
