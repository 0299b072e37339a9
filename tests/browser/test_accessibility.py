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
