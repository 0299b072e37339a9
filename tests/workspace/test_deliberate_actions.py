"""Destructive actions are deliberate: cancelling stands apart, asks for a reason and records it;
every transition pop-over can be closed; SLA clocks say how they ended, cancelled included."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from servio.sla.models import ClockState
from servio.tickets import services
from servio.web.templatetags.ui import clock_badge
from tests.ui import make_ticket, sla_policy, told

HX = {"HX-Request": "true"}


@pytest.fixture
def agent_client(client, personas):
    client.force_login(personas.agent_desk)
    return client


def _footer(page: str) -> tuple[str, str]:
    """(the ordinary transitions, the ones set apart) of a ticket page's status footer."""
    footer = page[page.index('<h2 class="visually-hidden">Change status</h2>') :]
    ordinary, apart = footer.split('<div class="transition-apart">', 1)
    return ordinary, apart


def test_cancel_stands_apart_and_every_pop_over_has_a_close_control(agent_client, personas):
    ticket = make_ticket(personas)
    page = agent_client.get(f"/desk/t/{ticket.reference}/").content.decode()
    ordinary, apart = _footer(page)
    assert 'data-transition="cancel"' in apart and 'data-transition="cancel"' not in ordinary
    assert 'data-transition="resolve"' in ordinary and 'data-transition="resolve"' not in apart
    assert "btn-outline-danger" in apart and f"Cancel {ticket.reference}?" in apart
    assert "Cancelled is final" in apart
    assert re.search(r'<textarea[^>]*name="reason"[^>]*required', apart)
    assert "Reason for cancelling" in apart
    popovers = page.count("data-popover>") + page.count("data-popover open>")
    assert popovers == 3  # hold, resolve, cancel (start has no fields and no pop-over)
    assert page.count('class="btn-close" type="button" data-popover-close') == popovers
    # Choices read as words, never as stored values.
    assert ">No fault found</option>" in page and ">no_fault_found<" not in page
    assert ">Awaiting vendor</option>" in page


def test_a_cancellation_without_a_reason_changes_nothing(agent_client, personas):
    ticket = make_ticket(personas)
    url = f"/desk/t/{ticket.reference}/transition/cancel/"
    response = agent_client.post(url, {"version": "1", "reason": "   "}, headers=HX)
    assert told(response) == 422
    part = response.content.decode()
    assert "This field is required to cancel." in part
    assert 'id="tr-cancel-reason-error"' in part and 'aria-invalid="true"' in part
    assert "data-popover open>" in part  # the cancel pop-over stays open with the error
    ticket.refresh_from_db()
    assert ticket.status == "new" and ticket.version == 1
    # Without HTMX: the whole page, answered 200, with the error beside the field.
    page = agent_client.post(url, {"version": "1"})
    assert told(page) == 422 and "<html" in page.content.decode()
    assert 'id="tr-cancel-reason-error"' in page.content.decode()


def test_a_cancellation_with_a_reason_is_final_and_the_reason_is_on_the_timeline(
    agent_client, personas
):
    sla_policy()
    ticket = make_ticket(personas)
    url = f"/desk/t/{ticket.reference}/transition/cancel/"
    response = agent_client.post(
        url, {"version": "1", "reason": "Logged twice, see the other one"}, headers=HX
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "timeline-changed"
    ticket.refresh_from_db()
    assert ticket.status == "cancelled"
    page = agent_client.get(f"/desk/t/{ticket.reference}/").content.decode()
    assert "Change status" not in page  # final: no transition is offered
    timeline = agent_client.get(f"/desk/t/{ticket.reference}/part/timeline/").content.decode()
    assert "cancelled the ticket" in timeline
    assert '<span class="fw-bold">Reason:</span> Logged twice, see the other one' in timeline
    assert "Reason: <span" not in timeline  # not shown as a change of value
    # Its SLA clocks say they were cancelled, never met.
    badges = re.findall(r'data-clock-state="(\w+)"[^>]*>([^<]*)<', page)
    assert badges == [
        ("cancelled", "First response cancelled"),
        ("cancelled", "Resolution cancelled"),
    ]
    assert " met<" not in page
    # The refusal of a later step says the ticket is finished.
    again = agent_client.post(f"/desk/t/{ticket.reference}/transition/reopen/", {}, headers=HX)
    assert told(again) == 409


def _clock(state: str, *, breached=False, stopped=True, metric="resolution") -> dict:
    now = timezone.now()
    return {
        "metric": metric,
        "state": state,
        "breached": breached,
        "due_at": None if state in ("cancelled", "paused") else now + timedelta(hours=2),
        "stopped_at": now if stopped else None,
    }


EXPECTED_BADGES = {
    # state, breached, stopped -> words the badge shows
    ("running", False, False): "Resolution 1h 59m left",
    ("breached", True, False): "Resolution overdue",
    ("paused", False, False): "Resolution paused",
    ("met", False, True): "Resolution met",
    ("breached", True, True): "Resolution breached",
    ("cancelled", False, True): "Resolution cancelled",
    ("cancelled", True, True): "Resolution cancelled",
}


@pytest.mark.parametrize(("state", "breached", "stopped"), list(EXPECTED_BADGES))
def test_every_clock_state_has_its_own_words(state, breached, stopped):
    clock = _clock(state, breached=breached, stopped=stopped)
    if state == "breached" and not stopped:
        clock["due_at"] = timezone.now() - timedelta(minutes=5)
    badge = clock_badge(clock)
    text = re.sub(r"<[^>]+>", "", badge)
    assert text.startswith(EXPECTED_BADGES[(state, breached, stopped)]), badge
    if state == "cancelled":
        assert "met" not in text and "breached" not in text and "bg-secondary-lt" in badge
    assert "First response" in clock_badge(_clock(state, stopped=stopped, metric="first_response"))


def test_the_badge_table_covers_every_clock_state():
    assert {state for state, _, _ in EXPECTED_BADGES} == set(ClockState.values)


def test_an_edit_link_opened_in_a_new_tab_shows_the_whole_page(agent_client, personas):
    ticket = make_ticket(personas, title="Printer jams")
    response = agent_client.get(f"/desk/t/{ticket.reference}/edit/title/")
    page = response.content.decode()
    assert response.status_code == 200 and "<html" in page and 'id="conversation-title"' in page
    assert 'class="inline-editor' in page and 'value="Printer jams"' in page
    # Its cancel link, opened the same way, goes back to the page.
    back = agent_client.get(f"/desk/t/{ticket.reference}/edit/title/?cancel=1")
    assert back.status_code == 302 and back["Location"] == f"/desk/t/{ticket.reference}/"
    # Through HTMX it stays a part of the page.
    part = agent_client.get(f"/desk/t/{ticket.reference}/edit/title/", headers=HX)
    assert "<html" not in part.content.decode()


def test_the_version_number_is_not_shown(agent_client, personas):
    ticket = make_ticket(personas)
    services.ticket_update(
        actor=personas.agent_desk, ticket=ticket, version=1, changes={"urgency": 1}
    )
    page = agent_client.get(f"/desk/t/{ticket.reference}/").content.decode()
    assert not re.search(r"version\s+\d", page, re.IGNORECASE)
    assert 'name="version" value="2"' in page  # still sent with every edit
