"""axe-core (from npm) finds no serious or critical WCAG 2 A/AA problem on the main screens,
in the light and the dark theme."""

from __future__ import annotations

import pytest

from servio.tickets import services
from tests.ui import make_ticket, sla_policy


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_main_screens_have_no_serious_accessibility_problems(ui, personas, theme):
    sla_policy()
    ticket = make_ticket(personas, title="Cannot print", description="Since **Monday**.")
    services.comment_add(actor=personas.agent_desk, ticket=ticket, body="Checking", internal=True)
    services.comment_add(actor=personas.agent_desk, ticket=ticket, body="Try again please")
    problems: list[str] = []

    def visit(session, path: str) -> None:
        session.go(path)
        session.page.evaluate(f"() => localStorage.setItem('servio-theme', '{theme}')")
        session.go(path)
        problems.extend(session.accessibility_problems())

    visit(ui(), "/login/")
    requester = ui(personas.requester_acme)
    for path in ("/portal/", "/portal/new/", f"/portal/t/{ticket.reference}/", "/settings/"):
        visit(requester, path)
    agent = ui(personas.agent_desk)
    for path in ("/desk/?queue=unassigned", f"/desk/t/{ticket.reference}/", "/desk/new/"):
        visit(agent, path)
    visit(ui(personas.lead_desk), "/desk/dashboard/")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_portal_states_have_no_serious_accessibility_problems(ui, personas, theme):
    """The requester's new states (issue 14, items 7 to 9): what waits for them, each "what
    happens next" (received, late, waiting for them, solved, closed, cancelled), the
    resolution with its buttons, the survey, the report form with its answers and its errors,
    a bad search, and the message after a report."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from servio.sla.models import SlaClock
    from servio.surveys.services import survey_invite

    sla_policy()
    rita, dana = personas.requester_acme, personas.agent_desk

    def ticket(title, *steps):
        made = make_ticket(personas, title=title)
        services.ticket_assign(actor=dana, ticket=made, team=personas.team_desk, assignee=dana)
        for name, values in steps:
            services.ticket_transition(actor=dana, ticket=made, transition=name, values=values)
        return made

    resolve = ("resolve", {"resolution_code": "workaround", "resolution_notes": "Use **B**."})
    waiting = ticket("Which floor?", ("hold", {"hold_reason": "awaiting_requester"}))
    vendor = ticket("Vendor part", ("hold", {"hold_reason": "awaiting_vendor"}))
    solved = ticket("Scanner", resolve)
    survey_invite(ticket=solved, event_id=uuid.uuid4())
    closed = ticket("Monitor", resolve)
    services.ticket_transition(actor=rita, ticket=closed, transition="close")
    late = ticket("Late one")
    SlaClock.objects.filter(ticket=late).update(due_at=timezone.now() - timedelta(hours=1))
    cancelled = make_ticket(personas, title="Never mind")
    services.ticket_transition(actor=rita, ticket=cancelled, transition="cancel")
    problems: list[str] = []
    requester = ui(rita)
    requester.context.add_init_script(
        f"try {{ localStorage.setItem('servio-theme', '{theme}'); }} catch (e) {{}}"
    )

    def check(path=None):
        page = requester.go(path) if path else requester.page
        assert page.locator("html").get_attribute("data-bs-theme") == theme
        problems.extend(requester.accessibility_problems())
        return page

    check("/portal/")
    check("/portal/?show=closed&q=" + "x" * 201)  # a bad search, named beside the field
    for made in (waiting, vendor, solved, closed, late, cancelled):
        check(f"/portal/t/{made.reference}/")
    page = requester.go(f"/portal/t/{solved.reference}/")
    page.locator("[data-action-open=reopen]").click()
    check()
    page = check("/portal/new/?kind=incident")
    page.get_by_role("button", name="Send").click()  # no title: errors beside the fields
    page.locator("#id_title-errors").wait_for()
    check()
    page.fill("#id_title", "Payroll fails")
    page.get_by_role("button", name="Send").click()
    page.locator("h1#ticket-title").wait_for()  # with "Thank you — ... is logged"
    check()
    assert not problems, "\n".join(problems)
