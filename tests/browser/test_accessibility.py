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
def test_saved_views_canned_responses_and_queue_states(ui, personas, theme):
    """The states issue 14 (items 2, 3, 5) adds: a saved view open with its save panel and a
    filter picker, the views page after a save and after an error, the responses page with
    an error and a preview warning, the reply box's picker with a preview, the phone queue."""
    from servio.workspace import services as desk

    sla_policy()
    ticket = make_ticket(personas, title="Cannot print")
    view = desk.saved_view_create(
        actor=personas.lead_desk, name="Urgent", queue="all", filters={"priority": [1, 2]},
        team=personas.team_desk,
    )  # fmt: skip
    desk.canned_response_create(
        actor=personas.agent_desk, title="Hello", body="Hi {{ requester.first_name }}"
    )
    problems: list[str] = []

    def check(session) -> None:
        # Away from the control just clicked, once its hover transition has ended.
        session.page.mouse.move(1, 1)
        session.page.wait_for_timeout(400)
        problems.extend(session.accessibility_problems())

    lead = ui(personas.lead_desk)
    lead.go("/desk/views/")
    lead.page.evaluate(f"() => localStorage.setItem('servio-theme', '{theme}')")

    page = lead.go(f"/desk/views/{view.pk}/")
    page.get_by_text("Save view…").click()
    check(lead)
    page.locator("#id_status-chosen").click()
    check(lead)
    page = lead.go("/desk/views/")
    page.locator(f"#view-{view.pk}").get_by_role("button", name="Save").click()
    page.locator(".alert-success").wait_for()
    check(lead)  # after a save
    page.locator(f"#view-{view.pk}").get_by_label("Name").fill("")
    page.locator(f"#view-{view.pk}").get_by_role("button", name="Save").click()
    page.locator(".invalid-feedback").first.wait_for()
    check(lead)  # an error beside the field

    agent = ui(personas.agent_desk)
    agent.go("/desk/responses/")
    agent.page.evaluate(f"() => localStorage.setItem('servio-theme', '{theme}')")
    page = agent.go("/desk/responses/")
    page.locator("#id_body").fill("Hi {{ nobody }}")
    page.get_by_role("button", name="Preview").click()
    page.locator("#response-preview .alert-warning").wait_for()
    check(agent)  # a preview that warns
    page.get_by_role("button", name="Save response").click()
    page.locator(".invalid-feedback").first.wait_for()
    check(agent)  # errors beside the fields
    page = agent.go(f"/desk/t/{ticket.reference}/")
    page.keyboard.press("i")
    page.locator("#canned-options button").first.click()
    page.locator("#canned-preview [data-canned-insert]").wait_for()
    check(agent)  # the picker with a preview
    agent.page.set_viewport_size({"width": 390, "height": 844})
    agent.go("/desk/?queue=all")
    check(agent)  # the queue as cards
    assert not problems, "\n".join(problems)
