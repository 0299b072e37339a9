"""Bulk actions that respect the agent's time: only the fields the action needs, with words for
every choice; checked once before anything is applied; applied to the tickets that can take it,
each other one saying why in words; the selection kept; team and person typed into searchable
lists."""

from __future__ import annotations

import re

import pytest

from servio.audit.models import AuditEvent
from servio.tickets import services
from servio.tickets.models import Ticket
from tests.ui import make_ticket, told

HX = {"HX-Request": "true"}


@pytest.fixture
def dana(client, personas):
    client.force_login(personas.agent_desk)
    return client


def _fields(client, **params) -> str:
    response = client.get("/desk/bulk/form/", params, headers=HX)
    assert response.status_code == 200
    return response.content.decode()


def _text(html: str) -> str:
    """What a person reads: the markup's text, without tags and attribute values."""
    return re.sub(r"<[^>]+>", " ", html)


def test_the_form_shows_only_the_fields_the_action_needs(dana, personas):
    mine = _fields(dana, action="assign_me")
    assert 'name="team"' not in mine and 'name="body"' not in mine
    assign = _fields(dana, action="assign")
    assert 'name="team"' in assign and 'list="bulk-team-options"' in assign
    assert 'name="assignee"' in assign and 'list="bulk-people-options"' in assign
    assert '<option value="Service Desk">' in assign
    assert '<option value="Dana Desk (dana@provider.example)">Service Desk</option>' in assign
    assert 'name="transition"' not in assign and 'name="body"' not in assign
    status = _fields(dana, action="transition")
    assert ">Resolve</option>" in status and ">Put on hold</option>" in status
    assert 'name="resolution_code"' not in status  # not before a status change is chosen
    resolve = _fields(dana, action="transition", transition="resolve")
    assert 'name="resolution_code"' in resolve and 'name="resolution_notes"' in resolve
    assert 'name="hold_reason"' not in resolve and 'name="reason"' not in resolve
    assert ">No fault found</option>" in resolve and ">Resolved by a change</option>" in resolve
    assert "no_fault_found" not in _text(resolve) and "resolution_code" not in _text(resolve)
    hold = _fields(dana, action="transition", transition="hold")
    assert ">Awaiting requester</option>" in hold and "awaiting_" not in _text(hold)
    cancel = _fields(dana, action="transition", transition="cancel")
    assert 'name="reason"' in cancel and "Reason for cancelling" in cancel
    assert "Cancelled is final" in cancel and "btn-danger" in cancel
    comment = _fields(dana, action="comment")
    assert 'name="body"' in comment and 'value="internal"' in comment
    assert 'name="team"' not in comment


def test_the_people_list_follows_the_team_typed(dana, personas):
    desk = _fields(dana, action="assign", team="service desk")
    assert "Lena Lead (lena@provider.example)" in desk
    assert "Nick Network" not in desk
    everyone = _fields(dana, action="assign")
    assert "Nick Network (nick@provider.example)" in everyone  # an agent of any team


@pytest.mark.parametrize(
    ("params", "queries"),
    [
        ({"action": "assign_me"}, 2),
        ({"action": "assign", "team": "Service Desk"}, 4),
        ({"action": "transition", "transition": "resolve"}, 2),
        ({"action": "comment"}, 2),
    ],
)
def test_the_form_costs_a_fixed_number_of_queries(
    dana, personas, django_assert_num_queries, params, queries
):
    """Session and user, plus teams and their members when assigning (two queries, whatever
    their number)."""
    _fields(dana, **params)  # fills the per-process caches
    with django_assert_num_queries(queries):
        _fields(dana, **params)


def test_a_missing_field_is_said_once_and_nothing_is_applied(dana, personas):
    tickets = [make_ticket(personas, title=f"T{n}") for n in range(3)]
    before = AuditEvent.objects.count()
    response = dana.post(
        "/desk/bulk/",
        {
            "action": "transition",
            "transition": "resolve",
            "resolution_notes": "Fixed them all",
            "tickets": [t.reference for t in tickets],
            "query": "queue=all",
        },
        headers=HX,
    )
    assert told(response) == 422
    page = response.content.decode()
    assert page.count("This field is required to resolve.") == 1
    assert 'id="bulk-resolution_code-error"' in page and "Fixed them all" in page
    assert "bulk-outcomes" not in page
    assert AuditEvent.objects.count() == before
    assert set(Ticket.objects.values_list("status", flat=True)) == {"new"}
    # The form stays open with the same tickets selected.
    assert '<details class="card bulk-bar" open>' in page
    assert f'data-keep-selected="{" ".join(t.reference for t in tickets)}"' in page


def test_applied_where_possible_and_each_refusal_in_words(dana, personas):
    fresh = make_ticket(personas, title="Fresh")
    done = make_ticket(personas, title="Done")
    services.ticket_transition(
        actor=personas.agent_desk, ticket=done, transition="cancel", values={"reason": "Dup"}
    )
    other = make_ticket(personas, requester=personas.requester_globex, title="Globex's")
    selected = [fresh.reference, done.reference, other.reference]
    response = dana.post(
        "/desk/bulk/",
        {"action": "transition", "transition": "start", "tickets": selected, "query": ""},
        headers=HX,
    )
    assert told(response) == 200
    page = response.content.decode()
    outcomes = {o.reference: o for o in response.context["bulk"]["outcomes"]}
    assert outcomes[fresh.reference].ok and outcomes[fresh.reference].message == ("now In progress")
    assert outcomes[done.reference].message == (
        "Start work is not possible while the status is Cancelled. "
        "Cancelled is final: nothing more is possible."
    )
    # Another organisation's ticket: the words of a number that names nothing.
    assert outcomes[other.reference].message == "no ticket you may see has this number"
    assert "Globex&#x27;s" not in page and "Globex's" not in page
    assert "1 of 3 selected tickets changed" in page
    assert f'data-keep-selected="{" ".join(selected)}"' in page
    fresh.refresh_from_db()
    other.refresh_from_db()
    assert fresh.status == "in_progress" and other.status == "new"


def test_assign_to_a_team_and_a_person_typed_by_name(dana, personas):
    first, second = make_ticket(personas, title="A"), make_ticket(personas, title="B")
    refs = [first.reference, second.reference]

    def assign(**values):
        return dana.post(
            "/desk/bulk/",
            {"action": "assign", "tickets": refs, "query": "queue=all", **values},
            headers=HX,
        )

    unknown = assign(team="Plumbing")
    assert told(unknown) == 422
    assert "No team you may assign to is called “Plumbing”." in unknown.content.decode()
    stranger = assign(team="Service Desk", assignee="Nick Network (nick@provider.example)")
    assert told(stranger) == 422 and 'id="bulk-assignee-error"' in stranger.content.decode()
    outsider = assign(team="Service Desk", assignee="Lena")
    assert "Nobody in the list is “Lena”" in outsider.content.decode()
    assert not Ticket.objects.filter(team__isnull=False).exists()
    done = assign(team="service desk", assignee="Lena Lead (lena@provider.example)")
    assert told(done) == 200
    outcomes = done.context["bulk"]["outcomes"]
    assert [o.message for o in outcomes] == ["assigned to Service Desk / Lena Lead"] * 2
    assert set(Ticket.objects.values_list("team", "assignee")) == {
        (personas.team_desk.pk, personas.lead_desk.pk)
    }
    # The address alone is enough too.
    assert told(assign(team="Service Desk", assignee="dana@provider.example")) == 200


def test_cancelling_in_bulk_needs_the_reason_and_records_it_on_each(dana, personas):
    tickets = [make_ticket(personas, title=f"T{n}") for n in range(2)]
    refs = [t.reference for t in tickets]
    body = {"action": "transition", "transition": "cancel", "tickets": refs, "query": ""}
    refused = dana.post("/desk/bulk/", body, headers=HX)
    assert told(refused) == 422 and 'id="bulk-reason-error"' in refused.content.decode()
    assert set(Ticket.objects.values_list("status", flat=True)) == {"new"}
    applied = dana.post("/desk/bulk/", {**body, "reason": "Raised twice"}, headers=HX)
    assert told(applied) == 200
    assert set(Ticket.objects.values_list("status", flat=True)) == {"cancelled"}
    reasons = AuditEvent.objects.filter(action="ticket.cancel").values_list("changes", flat=True)
    assert [c["reason"] for c in reasons] == [[None, "Raised twice"]] * 2


def test_a_note_in_bulk_needs_its_text(dana, personas):
    ticket = make_ticket(personas)
    body = {"action": "comment", "tickets": [ticket.reference], "query": ""}
    refused = dana.post("/desk/bulk/", {**body, "body": "  "}, headers=HX)
    assert told(refused) == 422 and "Write the note or reply." in refused.content.decode()
    dana.post("/desk/bulk/", {**body, "body": "Seen", "visibility": "public"}, headers=HX)
    assert not ticket.comments.get().is_internal


def test_without_htmx_the_whole_queue_page_comes_back(dana, personas):
    ticket = make_ticket(personas)
    response = dana.post(
        "/desk/bulk/", {"action": "assign_me", "tickets": [ticket.reference], "query": ""}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<html" in page and 'id="bulk-outcomes"' in page
    nothing = dana.post("/desk/bulk/", {"action": "assign_me", "tickets": [], "query": ""})
    assert told(nothing) == 422 and "Select at least one ticket." in nothing.content.decode()
