"""The requester's portal in the browser (issue 14, items 7 to 9), in the light and the dark
theme, at 1,440 px and on a phone: what waits for them first, what happens next on a ticket,
and the priority from their own words. Screenshots of each state go to the test artefacts."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from servio.portal.models import DEFAULT_ANSWERS, PortalAnswer
from servio.surveys.services import survey_invite
from servio.tickets import services
from servio.tickets.models import Ticket
from tests.browser.conftest import PHONE, THEMES, WIDE
from tests.ui import make_ticket, sla_policy


def themed(ui, user, theme: str):
    """A signed-in session at 1,440 px in the given theme (remembered as servio.js does)."""
    session = ui(user)
    session.page.set_viewport_size(WIDE)
    session.context.add_init_script(
        f"try {{ localStorage.setItem('servio-theme', '{theme}'); }} catch (e) {{}}"
    )
    return session


def on_a_phone(session, path: str):
    """Open `path` at 390 px and check nothing scrolls sideways."""
    session.page.set_viewport_size(PHONE)
    page = session.go(path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} scrolls sideways on a phone ({width}px)"
    return page


def back_to_wide(session):
    session.page.set_viewport_size(WIDE)


def hold(personas, ticket, reason="awaiting_requester"):
    services.ticket_transition(
        actor=personas.agent_desk, ticket=ticket, transition="hold", values={"hold_reason": reason}
    )


def assign(personas, ticket):
    services.ticket_assign(
        actor=personas.agent_desk,
        ticket=ticket,
        team=personas.team_desk,
        assignee=personas.agent_desk,
    )


def resolve(personas, ticket, notes="Replaced the **power supply**."):
    services.ticket_transition(
        actor=personas.agent_desk,
        ticket=ticket,
        transition="resolve",
        values={"resolution_code": "fixed", "resolution_notes": notes},
    )


@pytest.mark.parametrize("theme", THEMES)
def test_what_waits_for_the_requester_comes_first(ui, personas, theme):
    rita = personas.requester_acme
    asked = make_ticket(personas, title="Printer prints blank pages")
    services.comment_add(actor=personas.agent_desk, ticket=asked, body="Which floor are you on?")
    hold(personas, asked)
    solved = make_ticket(personas, title="Scanner sends nothing")
    assign(personas, solved)
    resolve(personas, solved)
    survey_invite(ticket=solved, event_id=uuid.uuid4())
    old = make_ticket(personas, title="Old monitor flickers")
    resolve(personas, old)
    services.ticket_transition(actor=rita, ticket=old, transition="close")
    make_ticket(personas, title="Keyboard misses keys")
    make_ticket(personas, requester=personas.requester_globex, title="Globex modem")

    requester = themed(ui, rita, theme)
    page = requester.go("/portal/")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
    waiting = page.locator("#needs-action [data-needs-action]")
    expect(waiting).to_have_count(2)
    expect(waiting.nth(0)).to_contain_text(asked.reference)
    expect(waiting.nth(0).locator("[data-action-code]")).to_contain_text(["Answer our question"])
    expect(waiting.nth(1)).to_contain_text(solved.reference)
    expect(waiting.nth(1).locator("[data-action-code]")).to_contain_text(
        ["Confirm it is solved, or reopen it", "Rate how we did"]
    )
    above = page.locator("#needs-action").bounding_box()["y"]
    assert above < page.locator("#ticket-list").bounding_box()["y"]
    expect(page.locator("main")).not_to_contain_text("Globex modem")
    requester.shot(f"portal-needs-action-{theme}", full_page=True)

    # Open, closed, and a search of her own tickets.
    page.locator("#show-filter [data-show=closed]").click()
    expect(page.locator("[data-ticket-row]")).to_have_count(2)
    page.locator("#show-filter [data-show=open]").click()
    expect(page.locator("[data-ticket-row]")).to_have_count(2)
    page.locator("#show-filter [data-show=all]").click()
    page.fill("#id_q", "monitor")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("[data-ticket-row]")).to_have_count(1)
    expect(page.locator("[data-ticket-row]")).to_contain_text("Old monitor flickers")
    requester.shot(f"portal-list-search-{theme}")

    page = on_a_phone(requester, "/portal/")
    expect(page.locator("#needs-action")).to_be_visible()
    requester.shot(f"portal-needs-action-{theme}-phone", full_page=True)
    back_to_wide(requester)

    # She answers: the ticket goes back to the desk and no longer waits for her.
    page = requester.go("/portal/")
    page.locator("#needs-action [data-action-code=answer]").click()
    expect(page).to_have_url(re.compile(rf"/portal/t/{asked.reference}/#reply$"))
    expect(page.locator("#next-step")).to_contain_text("We are waiting for your answer")
    page.fill("#id_body", "Third floor, by the kitchen.")
    page.click("#reply-send")
    expect(page.locator(".status-badge")).to_have_text("In progress")
    page = requester.go("/portal/")
    expect(page.locator("#needs-action [data-needs-action]")).to_have_count(1)
    expect(page.locator("#needs-action")).not_to_contain_text(asked.reference)


@pytest.mark.parametrize("theme", THEMES)
def test_the_ticket_page_says_what_happens_next_by_when_and_who(ui, personas, theme):
    sla_policy()
    rita = personas.requester_acme
    ticket = make_ticket(personas, title="Docking station ignores monitors")
    requester = themed(ui, rita, theme)
    page = requester.go(f"/portal/t/{ticket.reference}/")
    step = page.locator("#next-step")
    expect(step).to_contain_text("We have received it")
    expect(step.locator("[data-next-when]")).to_contain_text("We aim to reply by")
    requester.shot(f"portal-next-step-received-{theme}")

    assign(personas, ticket)
    services.comment_add(actor=personas.agent_desk, ticket=ticket, body="Trying a new cable.")
    page = requester.go(f"/portal/t/{ticket.reference}/")
    expect(step).to_contain_text("We are working on it")
    expect(step).to_contain_text("Dana (Service Desk) is working on it.")
    expect(step.locator("[data-next-when]")).to_contain_text("We aim to solve it by")
    expect(page.locator("[data-handled-by]")).to_have_text("Dana · Service Desk")
    expect(page.locator(".timeline-entry.is-reply strong").first).to_have_text("Dana")
    requester.shot(f"portal-next-step-working-{theme}", full_page=True)

    resolve(personas, ticket)
    survey_invite(ticket=ticket, event_id=uuid.uuid4())
    page = requester.go(f"/portal/t/{ticket.reference}/")
    expect(step).to_contain_text("We think this is solved")
    expect(step).to_contain_text("it closes by itself on")
    resolution = page.locator("#resolution")
    expect(resolution).to_contain_text("Fixed")
    expect(resolution.locator("strong")).to_have_text("power supply")
    requester.shot(f"portal-ticket-resolved-{theme}", full_page=True)
    on_a_phone(requester, f"/portal/t/{ticket.reference}/")
    expect(page.locator("#next-step")).to_be_visible()
    requester.shot(f"portal-ticket-resolved-{theme}-phone", full_page=True)
    back_to_wide(requester)

    # She confirms: closed, and the resolution stays on the page.
    page = requester.go(f"/portal/t/{ticket.reference}/")
    page.locator("button[data-action=close]").click()
    expect(page.locator(".status-badge")).to_have_text("Closed")
    expect(page.locator("#next-step")).to_contain_text("Closed on")
    expect(page.locator("#resolution")).to_contain_text("power supply")
    expect(page.locator("#resolution button")).to_have_count(0)
    requester.shot(f"portal-ticket-closed-{theme}", full_page=True)

    # Another one she reopens, saying what is still wrong.
    again = make_ticket(personas, title="Headset crackles")
    assign(personas, again)
    resolve(personas, again, notes="Updated the driver.")
    page = requester.go(f"/portal/t/{again.reference}/#resolution")
    page.locator("[data-action-open=reopen]").click()
    page.fill("#reopen-reason", "Still crackles in calls.")
    requester.shot(f"portal-ticket-reopen-{theme}")
    page.locator("button[data-action=reopen]").click()
    expect(page.locator(".status-badge")).to_have_text("In progress")
    expect(page.locator("main")).to_contain_text("Still crackles in calls.")
    assert Ticket.objects.get(pk=again.pk).reopen_count == 1


def report(session, title: str, *answers: str) -> Ticket:
    """Fill the report form as the requester does: a title and the answers by their words."""
    page = session.go("/portal/new/?kind=incident")
    page.fill("#id_title", title)
    for words in answers:
        page.get_by_label(words).check()
    page.get_by_role("button", name="Send").click()
    expect(page.locator("h1#ticket-title")).to_have_text(title)
    return Ticket.objects.get(title=title)


@pytest.mark.parametrize("theme", THEMES)
def test_the_requester_says_how_bad_it_is_and_who_is_affected(ui, personas, theme):
    requester = themed(ui, personas.requester_acme, theme)
    page = requester.go("/portal/new/?kind=incident")
    expect(page.get_by_role("group", name="How bad is it?")).to_be_visible()
    expect(page.get_by_role("group", name="Who is affected?")).to_be_visible()
    expect(page.get_by_label("It is a nuisance; it can wait")).to_be_checked()
    page.fill("#id_title", "Payroll run fails for everyone")
    page.get_by_label("It stops my work completely").check()
    page.get_by_label("Many people: a whole department, site or everyone").check()
    requester.shot(f"portal-new-ticket-answers-{theme}", full_page=True)
    on_a_phone(requester, "/portal/new/?kind=incident")
    requester.shot(f"portal-new-ticket-answers-{theme}-phone", full_page=True)
    back_to_wide(requester)

    ticket = report(
        requester,
        "Payroll run fails for everyone",
        "It stops my work completely",
        "Many people: a whole department, site or everyone",
    )
    assert (ticket.urgency, ticket.impact, ticket.priority) == (1, 1, 1)
    mouse = report(requester, "My mouse is slow", "It stops my work completely")
    assert (mouse.urgency, mouse.impact, mouse.priority) == (1, 3, 3)  # only me: P3


def test_an_admin_rewords_an_answer_and_the_form_follows(ui, personas):
    for order, (question, code, wording, level) in enumerate(DEFAULT_ANSWERS):
        PortalAnswer.objects.get_or_create(
            code=code,
            defaults={"question": question, "wording": wording, "level": level, "order": order},
        )
    admin = ui(personas.admin)
    page = admin.go("/admin/portal/portalanswer/")
    row = page.locator("#result_list tr", has=page.locator("input[value='Only me']"))
    row.locator("input[name$='-wording']").fill("Only me, but I run the payroll")
    row.locator("select[name$='-level']").select_option("2")
    admin.shot("admin-portal-answers", full_page=True)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")

    ticket = report(
        ui(personas.requester_acme),
        "Payslips do not print",
        "It stops my work completely",
        "Only me, but I run the payroll",
    )
    assert (ticket.urgency, ticket.impact, ticket.priority) == (1, 2, 2)
