"""axe-core (from npm) finds no serious or critical WCAG 2 A/AA problem on the main screens,
in the light and the dark theme."""

from __future__ import annotations

import pytest

from servio.tickets import services
from tests.ui import make_ticket, sla_policy


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_desk_s_new_states_have_no_serious_accessibility_problems(ui, personas, theme):
    """Issue 14 (agents, items 1, 4, 6): the cancel confirmation and its error, a cancelled
    ticket's clocks and reason, the bulk bar's fields, error and outcomes, the priority's
    source and notice, linked ticket numbers, a form answered with its errors."""
    sla_policy()
    other = make_ticket(personas, title="Printer jams")
    ticket = make_ticket(personas, title="Printer again", description=f"Like {other.reference}")
    done = make_ticket(personas, title="Old printer")
    services.ticket_update(
        actor=personas.agent_desk, ticket=ticket, version=1, changes={"priority": 1}
    )
    problems: list[str] = []
    agent = ui(personas.agent_desk)

    def check() -> None:
        problems.extend(agent.accessibility_problems())

    agent.go("/desk/")
    agent.page.evaluate(f"() => localStorage.setItem('servio-theme', '{theme}')")
    page = agent.go(f"/desk/t/{ticket.reference}/")
    page.locator("summary[data-transition=cancel]").click()
    page.locator("[data-confirm-transition=cancel]").click()
    page.locator("#tr-cancel-reason-error").wait_for()
    check()  # the confirmation, with the missing reason beside its field
    page.keyboard.press("Escape")
    page.locator("#ticket-header a[data-edit=urgency]").click()
    page.locator(".inline-editor select").select_option("1")
    page.locator(".inline-editor button[type=submit]").click()
    page.locator("#priority-notice").wait_for()
    check()  # the priority set by hand, and the notice after an urgency change
    services.ticket_transition(
        actor=personas.agent_desk, ticket=done, transition="cancel", values={"reason": "Dup"}
    )
    agent.go(f"/desk/t/{done.reference}/")
    check()  # cancelled clocks, the reason on the timeline
    page = agent.go("/desk/?queue=all")
    page.locator("input[name=tickets]").first.check()
    page.locator(f"input[name=tickets][value={done.reference}]").check()
    page.locator(".bulk-bar > summary").click()
    page.locator("#bulk-action").select_option("transition")
    page.locator("#bulk-transition").select_option("resolve")
    page.locator("#bulk-apply").click()
    page.locator("#bulk-resolution_code-error").wait_for()
    check()  # the bulk bar's fields and the error beside one
    page.locator("#bulk-resolution_code").select_option("no_fault_found")
    page.locator("#bulk-resolution_notes").fill("Works now")
    page.locator("#bulk-apply").click()
    page.locator("#bulk-outcomes").wait_for()
    check()  # each ticket's outcome, changed or not
    page.locator("#bulk-action").select_option("assign")
    page.locator("#bulk-team").wait_for()
    check()  # the searchable team and person lists
    page = agent.go("/desk/new/")
    page.locator("button[type=submit]").last.click()
    page.locator(".invalid-feedback").first.wait_for()
    check()  # a whole page answered with its errors
    assert not problems, "\n".join(problems)


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
