"""Issue 14, agents' items 1, 4 and 6, walked as an agent does: cancelling deliberately, bulk
actions, and the small things (ticket numbers as links, an edit link in a new tab, no version
numbers, the priority's source, form errors without console errors, the icon). Each in light
and dark themes at 1,440 px and on a phone; the `ui` fixture fails on any console error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from servio.tickets import services
from servio.tickets.models import Ticket
from tests.ui import make_ticket, sla_policy

WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWS = [("light", WIDE), ("dark", WIDE), ("light", PHONE), ("dark", PHONE)]
IDS = ["light-1440", "dark-1440", "light-phone", "dark-phone"]


def _open(session, path: str, theme: str, viewport: dict):
    """The page at this size and theme (the theme is remembered in the browser, as a person's
    choice is)."""
    session.page.set_viewport_size(viewport)
    session.go("/settings/")
    session.page.evaluate(f"() => localStorage.setItem('servio-theme', '{theme}')")
    page = session.go(path)
    expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
    return page


def _fits(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"{what} scrolls sideways ({width}px in {viewport}px)"


def _fits_within(page, selector: str) -> None:
    """Nothing inside `selector` reaches past the viewport's right edge (the queue's own
    layout on a phone is another matter, issue 14 item 5)."""
    right = page.evaluate(
        f"""() => Math.max(...[...document.querySelectorAll('{selector}, {selector} *')]
            .filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect().right))"""
    )
    viewport = page.viewport_size["width"]
    assert right <= viewport, f"{selector} reaches {right}px in {viewport}px"


def _name(theme: str, viewport: dict) -> str:
    return f"{theme}-{'phone' if viewport is PHONE else '1440'}"


@pytest.mark.parametrize(("theme", "viewport"), VIEWS, ids=IDS)
def test_cancelling_is_deliberate(ui, personas, theme, viewport):
    sla_policy()
    ticket = make_ticket(personas, title="Printer on fire")
    agent = ui(personas.agent_desk)
    page = _open(agent, f"/desk/t/{ticket.reference}/", theme, viewport)
    suffix = _name(theme, viewport)

    # Every pop-over closes with its own button and with Escape, and gives the focus back.
    resolve = page.locator("summary[data-transition=resolve]")
    resolve.click()
    expect(page.locator("#tr-resolve-resolution_code")).to_be_focused()
    expect(
        page.locator("#tr-resolve-resolution_code option", has_text="No fault found")
    ).to_have_count(1)
    page.get_by_role("button", name="Close (Resolve)").click()
    expect(page.locator("#tr-resolve-resolution_code")).to_be_hidden()
    expect(resolve).to_be_focused()
    page.locator("summary[data-transition=hold]").click()
    expect(page.locator("#tr-hold-hold_reason")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#tr-hold-hold_reason")).to_be_hidden()

    # Cancel stands apart, asks to confirm, and wants the reason.
    cancel = page.locator(".transition-apart summary[data-transition=cancel]")
    expect(cancel).to_be_visible()
    cancel.click()
    card = page.locator("details.is-destructive form")
    expect(card).to_contain_text(f"Cancel {ticket.reference}?")
    expect(card).to_contain_text("Cancelled is final")
    expect(page.locator("#tr-cancel-reason")).to_be_focused()
    _fits(page, "the ticket page with the cancel confirmation")
    agent.shot(f"desk-cancel-confirm-{suffix}")
    page.keyboard.press("Escape")  # from inside the reason box too
    expect(card).to_be_hidden()
    cancel.click()
    card.get_by_role("button", name=f"Cancel {ticket.reference}").click()
    expect(page.locator("#tr-cancel-reason-error")).to_contain_text("required to cancel")
    expect(page.locator("#tr-cancel-reason")).to_have_attribute("aria-invalid", "true")
    agent.shot(f"desk-cancel-reason-missing-{suffix}")
    assert Ticket.objects.get(pk=ticket.pk).status == "new"

    page.locator("#tr-cancel-reason").fill("Logged twice: the same printer is on INC-000999")
    card.get_by_role("button", name=f"Cancel {ticket.reference}").click()
    expect(page.locator("#ticket-header .status-badge")).to_have_text("Cancelled")
    expect(page.locator("#ticket-header")).not_to_contain_text("Change status")
    expect(page.locator("[data-clock-state=cancelled]")).to_have_count(2)
    expect(page.locator("#ticket-header")).not_to_contain_text(" met")
    expect(page.locator("#ticket-timeline .timeline-reason")).to_contain_text(
        "Logged twice: the same printer is on INC-000999"
    )
    agent.shot(f"desk-cancelled-{suffix}", full_page=True)
    assert Ticket.objects.get(pk=ticket.pk).status == "cancelled"


@pytest.mark.parametrize(("theme", "viewport"), VIEWS, ids=IDS)
def test_bulk_actions_respect_the_agents_time(ui, personas, theme, viewport):
    first = make_ticket(personas, title="Laptop battery", urgency=1)
    second = make_ticket(personas, title="Laptop screen", urgency=2)
    finished = make_ticket(personas, title="Laptop bag", urgency=3)
    services.ticket_transition(
        actor=personas.agent_desk, ticket=finished, transition="cancel", values={"reason": "Dup"}
    )
    agent = ui(personas.agent_desk)
    page = _open(agent, "/desk/?queue=all", theme, viewport)
    suffix = _name(theme, viewport)
    for t in (first, second, finished):
        page.locator(f"input[name=tickets][value={t.reference}]").check()
    page.locator(".bulk-bar > summary").click()
    expect(page.locator("[data-selected-count]")).to_have_text("3 selected")

    # Only the fields the action needs.
    expect(page.locator("#bulk-team")).to_have_count(0)
    page.locator("#bulk-action").select_option("transition")
    expect(page.locator("#bulk-transition")).to_be_visible()
    expect(page.locator("#bulk-resolution_code")).to_have_count(0)
    page.locator("#bulk-transition").select_option("resolve")
    expect(page.locator("#bulk-resolution_code")).to_be_visible()
    expect(page.locator("#bulk-reason")).to_have_count(0)
    labels = page.locator("#bulk-resolution_code option").all_inner_texts()
    assert "No fault found" in labels and not any("_" in label for label in labels), labels

    # Checked once: a missing field is said once, beside it; nothing is applied.
    page.locator("#bulk-resolution_notes").fill("New batteries for all")
    page.locator("#bulk-apply").click()
    expect(page.locator("#bulk-resolution_code-error")).to_contain_text("required to resolve")
    expect(page.locator("#bulk-resolution_notes")).to_have_value("New batteries for all")
    for t in (first, second, finished):  # the selection is kept
        expect(page.locator(f"input[name=tickets][value={t.reference}]")).to_be_checked()
    _fits_within(page, "#bulk-form")
    agent.shot(f"desk-bulk-error-{suffix}")
    assert not Ticket.objects.filter(status="resolved").exists()

    # Applied where it can be; the one that cannot says why.
    page.locator("#bulk-resolution_code").select_option("fixed")
    page.locator("#bulk-apply").click()
    outcomes = page.locator("#bulk-outcomes")
    expect(outcomes).to_contain_text("2 of 3 selected tickets changed")
    expect(outcomes.locator("[data-outcome=refused]")).to_contain_text(
        f"{finished.reference} Resolve is not possible while the status is Cancelled"
    )
    expect(outcomes.locator("[data-outcome=changed]")).to_have_count(2)
    for t in (first, second, finished):
        expect(page.locator(f"input[name=tickets][value={t.reference}]")).to_be_checked()
    expect(page.locator("[data-selected-count]")).to_have_text("3 selected")
    agent.shot(f"desk-bulk-outcomes-{suffix}")
    assert Ticket.objects.filter(status="resolved").count() == 2

    # Assign to a team and a person, typed into searchable lists.
    page.locator(f"input[name=tickets][value={finished.reference}]").uncheck()
    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    page.locator("#bulk-action").select_option("assign")  # the bar stays open
    team = page.locator("#bulk-team")
    expect(team).to_have_attribute("list", "bulk-team-options")
    team.fill("Service Desk")
    team.press("Tab")
    expect(page.locator("#bulk-people-options option")).to_have_count(2)  # Dana and Lena
    page.locator("#bulk-assignee").fill("Lena Lead (lena@provider.example)")
    agent.shot(f"desk-bulk-assign-{suffix}")
    page.locator("#bulk-apply").click()
    expect(page.locator("#bulk-outcomes")).to_contain_text("2 of 2 selected tickets changed")
    expect(page.locator("#bulk-outcomes")).to_contain_text("assigned to Service Desk / Lena Lead")
    assert set(Ticket.objects.filter(assignee__isnull=False).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }


@pytest.mark.parametrize(("theme", "viewport"), VIEWS, ids=IDS)
def test_the_small_things(ui, personas, theme, viewport):
    suffix = _name(theme, viewport)
    printer = make_ticket(personas, title="Printer jams")
    theirs = make_ticket(personas, requester=personas.requester_globex, title="Globex private")
    ticket = make_ticket(
        personas,
        title="Printer again",
        description=f"Same as {printer.reference}; not {theirs.reference}.",
        impact=3,
        urgency=3,
    )
    services.comment_add(
        actor=personas.agent_desk, ticket=ticket, body=f"Linked to {printer.reference}"
    )
    agent = ui(personas.agent_desk)
    page = _open(agent, f"/desk/t/{ticket.reference}/", theme, viewport)

    # Ticket numbers are links to tickets the agent may see; another organisation's are not.
    header = page.locator("#ticket-header")
    expect(header.get_by_role("link", name=printer.reference)).to_have_attribute(
        "href", f"/desk/t/{printer.reference}/"
    )
    expect(header.get_by_role("link", name=theirs.reference)).to_have_count(0)
    expect(header).to_contain_text(f"not {theirs.reference}.")
    # No version number for people to puzzle over.
    expect(header).not_to_contain_text("version")
    # The priority's source, and what an urgency change does to it.
    expect(page.locator("#priority-source")).to_contain_text("From impact \u00d7 urgency")
    page.locator("#ticket-header a[data-edit=urgency]").click()
    expect(page.locator(".inline-editor")).to_contain_text("follows the impact x urgency matrix")
    page.locator(".inline-editor select").select_option("1")
    page.locator(".inline-editor").get_by_role("button", name="Save").click()
    expect(page.locator("#priority-notice")).to_contain_text("Priority is now P3 - Moderate")
    agent.shot(f"desk-priority-notice-{suffix}")
    services.ticket_update(
        actor=personas.lead_desk, ticket=Ticket.objects.get(pk=ticket.pk), version=2,
        changes={"priority": 1},
    )  # fmt: skip
    page = agent.go(f"/desk/t/{ticket.reference}/")
    expect(page.locator("#priority-source")).to_contain_text("Set by hand")
    page.locator("#ticket-header a[data-edit=impact]").click()
    page.locator(".inline-editor select").select_option("2")
    page.locator(".inline-editor").get_by_role("button", name="Save").click()
    expect(page.locator("#priority-notice")).to_contain_text("Priority stays P1 - Critical")
    agent.shot(f"desk-priority-kept-{suffix}")
    _fits(page, "the ticket page with the priority notice")

    # An edit link opened in a new tab shows the whole page, its editor open.
    href = page.locator("#ticket-header a[data-edit=service]").get_attribute("href")
    tab = agent.context.new_page()
    tab.on("console", agent._console)
    tab.goto(agent.base_url + href)
    expect(tab.locator("header.navbar")).to_be_visible()
    expect(tab.locator(".inline-editor select[name=service]")).to_be_visible()
    expect(tab.locator("#conversation-title")).to_be_visible()
    tab.close()

    # The comment's number is a link too, and it opens that ticket.
    timeline = page.locator("#ticket-timeline")
    timeline.get_by_role("link", name=printer.reference).click()
    expect(page).to_have_url(f"{agent.base_url}/desk/t/{printer.reference}/")

    # A form answered with its errors (a whole page, no HTMX) logs no console error.
    page = agent.go("/desk/new/")
    page.get_by_role("button", name="Log the ticket").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    agent.shot(f"desk-new-ticket-errors-{suffix}")

    # Servio's icon: named by the page; /favicon.ico (the admin's pages) is the same icon.
    expect(page.locator("link[rel=icon]")).to_have_attribute("href", "/static/web/favicon.svg")
    icon = page.evaluate(
        "() => fetch('/favicon.ico').then(r => [r.status, r.headers.get('content-type')])"
    )
    assert icon == [200, "image/png"], icon
    admin = ui(personas.admin)
    admin.page.set_viewport_size(viewport)
    admin_page = admin.go("/admin/")
    loaded = admin_page.evaluate(
        "() => new Promise(ok => { const i = new Image(); i.onload = () => ok(i.width);"
        " i.onerror = () => ok(0); i.src = '/favicon.ico'; })"
    )
    assert loaded == 32, loaded
