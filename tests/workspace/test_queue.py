"""Queues: what each shows, filters (TicketFilter), sorting, saved views, bulk actions, and a
number of queries that does not grow with the rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servio.tickets import services
from servio.workspace.models import SavedView
from servio.workspace.selectors import PAGE_SIZE
from tests.ui import XSS, make_ticket, sla_policy, told


def refs(response) -> list[str]:
    return re.findall(r"data-ticket-link[^>]*>((?:INC|REQ)-\d{6})<", response.content.decode())


def test_the_queues_show_what_their_names_say(client, personas):
    dana = personas.agent_desk
    mine = make_ticket(personas, title="Mine")
    services.ticket_assign(actor=dana, ticket=mine, team=personas.team_desk, assignee=dana)
    team = make_ticket(personas, title="Team")
    services.ticket_assign(actor=dana, ticket=team, team=personas.team_desk, assignee=None)
    loose = make_ticket(personas, title="Loose")
    done = make_ticket(personas, title="Done")
    services.ticket_transition(
        actor=dana, ticket=done, transition="cancel", values={"reason": "Duplicate"}
    )
    client.force_login(dana)
    assert refs(client.get("/desk/?queue=mine")) == [mine.reference]
    assert set(refs(client.get("/desk/?queue=teams"))) == {mine.reference, team.reference}
    assert set(refs(client.get("/desk/?queue=unassigned"))) == {team.reference, loose.reference}
    recent = refs(client.get("/desk/?queue=recent"))
    assert recent[0] == done.reference and len(recent) == 4
    assert client.get("/desk/").context["queue"] == "mine"


def test_breaching_soon_lists_live_clocks_by_due_time(client, personas):
    sla_policy(minutes=60)
    late = make_ticket(personas, title="Planning", urgency=3)  # P5: 300 minutes
    soon = make_ticket(personas, title="Urgent", urgency=1, impact=1)  # P1: 60 minutes
    finished = make_ticket(personas, title="Cancelled")
    services.ticket_transition(
        actor=personas.agent_desk, ticket=finished, transition="cancel", values={"reason": "Dup"}
    )
    no_sla = make_ticket(personas, kind="request", title="A request")
    client.force_login(personas.agent_desk)
    response = client.get("/desk/?queue=breaching")
    assert refs(response)[:2] == [soon.reference, late.reference]
    assert finished.reference not in refs(response)
    assert no_sla.reference in refs(client.get("/desk/?queue=all"))
    assert "data-sla-due=" in response.content.decode()


def test_filters_are_ticketfilter_fields_and_bad_ones_are_named(client, personas):
    a = make_ticket(personas, title="Printer jam", urgency=1, impact=1)
    b = make_ticket(personas, title="Screen dead")
    client.force_login(personas.agent_desk)
    assert refs(client.get("/desk/?queue=all&priority=1")) == [a.reference]
    assert refs(client.get("/desk/?queue=all&q=printer")) == [a.reference]
    assert refs(client.get(f"/desk/?queue=all&q={b.reference}")) == [b.reference]
    assert refs(client.get("/desk/?queue=all&status=new&sort=number")) == [a.reference, b.reference]
    assert refs(client.get("/desk/?queue=all&sort=-number")) == [b.reference, a.reference]
    response = client.get("/desk/?queue=all&priority=9&created_after=yesterday")
    assert response.status_code == 200
    form = response.context["form"]
    assert "priority" in form.errors and "created_after" in form.errors
    page = response.content.decode()
    assert 'id="id_priority-errors"' in page and 'aria-invalid="true"' in page
    assert len(refs(response)) == 2  # the bad filters are left out, the rest still applies


def test_sortable_columns_link_to_the_other_direction(client, personas):
    make_ticket(personas)
    client.force_login(personas.agent_desk)
    page = client.get("/desk/?queue=all&sort=priority").content.decode()
    assert 'href="?queue=all&amp;sort=-priority"' in page
    assert 'aria-sort="descending"' in page


def test_search_results_escape_user_text(client, personas):
    make_ticket(personas, title=f"Broken {XSS}", description=XSS)
    client.force_login(personas.agent_desk)
    page = client.get("/desk/?queue=all&q=broken").content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert" in page
    page = client.get(f"/desk/?queue=all&q={XSS}").content.decode()
    assert "<script>alert" not in page


def test_saved_views_private_and_shared_with_a_team(client, personas):
    a = make_ticket(personas, title="P1 thing", urgency=1, impact=1)
    make_ticket(personas, title="Other")
    client.force_login(personas.agent_desk)
    response = client.post(
        "/desk/views/", {"name": "Critical", "query": "queue=all&priority=1", "team": ""}
    )
    view = SavedView.objects.get(name="Critical")
    assert response.status_code == 302 and view.filters == {"priority": [1]} and view.team is None
    opened = client.get(f"/desk/views/{view.pk}/", follow=True)
    assert refs(opened) == [a.reference]
    # Agents may not share; the refusal is shown beside the field and the name is kept.
    response = client.post(
        "/desk/views/",
        {"name": "Shared", "query": "queue=all", "team": str(personas.team_desk.pk)},
    )
    assert told(response) == 422
    assert response.context["save_form"].errors["team"]
    assert 'value="Shared"' in response.content.decode()
    # A lead shares with their team; the team's agents see it, others do not.
    client.force_login(personas.lead_desk)
    client.post(
        "/desk/views/",
        {"name": "Team view", "query": "queue=teams", "team": str(personas.team_desk.pk)},
    )
    shared = SavedView.objects.get(name="Team view")
    client.force_login(personas.agent_desk)
    assert shared in client.get("/desk/").context["saved_views"]
    client.force_login(personas.agent_network)
    assert shared not in client.get("/desk/").context["saved_views"]
    assert client.get(f"/desk/views/{shared.pk}/").status_code == 404
    assert client.post(f"/desk/views/{view.pk}/delete/").status_code == 404
    client.force_login(personas.agent_desk)
    client.post(f"/desk/views/{view.pk}/delete/")
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_bulk_actions_report_each_ticket(client, personas):
    ok = make_ticket(personas, title="One")
    closed = make_ticket(personas, title="Two")
    services.ticket_transition(
        actor=personas.agent_desk, ticket=closed, transition="cancel", values={"reason": "Dup"}
    )
    hidden = make_ticket(personas, requester=personas.requester_globex, title="Not yours")
    client.force_login(personas.agent_desk)
    response = client.post(
        "/desk/bulk/",
        {
            "action": "assign_me",
            "tickets": [ok.reference, closed.reference, hidden.reference],
            "query": "queue=all",
        },
    )
    outcomes = {o.reference: o for o in response.context["bulk"]["outcomes"]}
    assert set(outcomes) == {ok.reference, closed.reference, hidden.reference}
    assert outcomes[ok.reference].ok and not outcomes[closed.reference].ok
    assert "cancelled" in outcomes[closed.reference].message
    # The hidden one is said not to exist, in the words a missing one gets.
    assert outcomes[hidden.reference].message == "no ticket you may see has this number"
    ok.refresh_from_db()
    assert ok.assignee_id == personas.agent_desk.pk
    # A transition missing its required fields is refused once, beside the field, before
    # any ticket is touched.
    response = client.post(
        "/desk/bulk/",
        {"action": "transition", "transition": "resolve", "tickets": [ok.reference]},
    )
    assert told(response) == 422 and response.context["bulk"]["outcomes"] == []
    assert "resolution_code" in response.context["bulk"]["errors"]
    response = client.post(
        "/desk/bulk/",
        {
            "action": "transition",
            "transition": "resolve",
            "resolution_code": "fixed",
            "resolution_notes": "Done in bulk",
            "tickets": [ok.reference],
        },
    )
    assert response.context["bulk"]["outcomes"][0].ok
    response = client.post(
        "/desk/bulk/",
        {
            "action": "comment",
            "body": "Looked at all of these",
            "visibility": "internal",
            "tickets": [ok.reference],
        },
    )
    assert ok.comments.get().is_internal
    assert told(client.post("/desk/bulk/", {"action": "comment", "tickets": []})) == 422


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _assign_to_dana(personas, ticket) -> None:
    dana = personas.agent_desk
    services.ticket_assign(actor=dana, ticket=ticket, team=personas.team_desk, assignee=dana)


@pytest.mark.parametrize("queue", ["all", "unassigned", "breaching", "mine"])
def test_queue_page_queries_do_not_grow_with_rows(client, personas, queue):
    sla_policy()

    def add(n: int) -> None:
        t = make_ticket(personas, requester=personas.colleague_acme, title=f"T{n}")
        if queue == "mine":
            _assign_to_dana(personas, t)

    add(0)
    client.force_login(personas.agent_desk)
    url = f"/desk/?queue={queue}"
    _queries(client, url)  # fills the per-process configuration caches
    one = _queries(client, url)
    for n in range(12):
        add(n + 1)
    many = _queries(client, url)
    assert many == one, f"{queue}: {one} queries with one ticket, {many} with thirteen"
    assert many <= 16


@pytest.mark.parametrize("queue", ["unassigned", "mine", "recent", "all"])
def test_a_queue_page_is_read_in_order_off_an_index(client, personas, queue):
    """PostgreSQL can read each queue's page in the queue's order without sorting its rows:
    with sorting priced out, the plan of the page query holds no sort. (The unassigned queue
    had none: a backlog of 350,000 open tickets was sorted for every page.)"""
    if connection.vendor != "postgresql":
        pytest.skip("index order is a PostgreSQL plan; SQLite's planner is not under test")
    ticket = make_ticket(personas, title="Queued")
    if queue == "mine":
        _assign_to_dana(personas, ticket)
    client.force_login(personas.agent_desk)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/desk/?queue={queue}").status_code == 200
    cut = f"LIMIT {PAGE_SIZE + 1}"  # a page and one more row, to know a next page exists
    page = [q["sql"] for q in ctx.captured_queries if q["sql"].endswith(cut)]
    assert len(page) == 1, f"{queue}: expected one page query, saw {len(page)}"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {page[0]}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Sort" not in plan, f"{queue} queue sorts its rows:\n{plan}"
    assert ticket.reference in client.get(f"/desk/?queue={queue}").content.decode()


def test_days_typed_without_a_zone_are_the_viewers_days(client, personas):
    """An agent in Berlin filtering "created from 2026-03-10" means Berlin's 10 March: a ticket
    created at 23:30 UTC on 9 March (00:30 in Berlin) is in; `tz` still overrides."""
    import datetime as dt

    from servio.tickets.models import Ticket

    late = make_ticket(personas, title="Just after midnight in Berlin")
    Ticket.objects.filter(pk=late.pk).update(
        created_at=dt.datetime(2026, 3, 9, 23, 30, tzinfo=dt.UTC)
    )
    dana = personas.agent_desk
    url = "/desk/?queue=all&created_after=2026-03-10&created_before=2026-03-11"
    client.force_login(dana)
    assert refs(client.get(url)) == []  # the installation's zone (UTC): 9 March
    dana.time_zone = "Europe/Berlin"
    dana.save(update_fields=["time_zone"])
    response = client.get(url)
    assert refs(response) == [late.reference]
    assert "creation days in Europe/Berlin" in response.content.decode()
    assert refs(client.get(url + "&tz=UTC")) == []
