"""The workspace in the browser: stale inline edits, keyboard shortcuts, themes and phones."""

from __future__ import annotations

from playwright.sync_api import expect

from servio.tickets import services
from servio.tickets.models import Ticket
from tests.ui import make_ticket


def test_a_stale_inline_edit_shows_the_conflict_and_overwrites_nothing(ui, personas):
    ticket = make_ticket(personas, title="Laptop will not boot")
    agent = ui(personas.agent_desk)
    page = agent.go(f"/desk/t/{ticket.reference}/")
    page.locator("#ticket-title a", has_text="Edit").click()
    editor = page.locator("form.inline-editor")
    expect(editor).to_be_visible()
    editor.locator("input[name=title]").fill("Laptop will not boot (mine)")

    # Meanwhile another agent renames it.
    services.ticket_update(
        actor=personas.lead_desk,
        ticket=ticket,
        version=ticket.version,
        changes={"title": "Laptop will not boot after BIOS update"},
    )
    editor.get_by_role("button", name="Save").click()
    conflict = page.locator("#conflict")
    expect(conflict).to_contain_text("Not saved")
    expect(conflict).to_contain_text("Laptop will not boot after BIOS update")
    expect(conflict).to_contain_text("Lena Lead")
    expect(page.locator("#ticket-title")).to_contain_text("after BIOS update")
    agent.shot("desk-ticket-conflict")
    ticket.refresh_from_db()
    assert ticket.title == "Laptop will not boot after BIOS update"


def test_keyboard_shortcuts(ui, personas):
    first = make_ticket(personas, title="Monitor flickers", urgency=1)
    make_ticket(personas, title="Mouse wheel sticks")
    agent = ui(personas.agent_desk)
    page = agent.go("/desk/?queue=unassigned")
    page.keyboard.press("?")
    dialog = page.locator("#shortcuts-dialog")
    expect(dialog).to_be_visible()
    agent.shot("desk-shortcuts")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.keyboard.press("j")
    expect(page.locator("[data-ticket-row].is-current")).to_contain_text(first.reference)
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(page.locator("[data-ticket-row].is-current")).to_contain_text(first.reference)
    page.keyboard.press("o")
    expect(page).to_have_url(f"{agent.base_url}/desk/t/{first.reference}/")
    # The shortcuts are bound by a deferred script: a key pressed the moment the URL changes,
    # before the new page has run it, would be lost (no person types that fast).
    page.wait_for_load_state()

    page.keyboard.press("a")
    expect(page.locator("#ticket-assignment")).to_contain_text("Dana Desk")
    page.keyboard.press("n")
    expect(page.locator("#composer-internal")).to_be_checked()
    expect(page.locator("#composer-body")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect(page.locator("#composer-public")).to_be_checked()
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type("Mouse")
    page.keyboard.press("Enter")
    expect(page.locator("[data-ticket-row]")).to_have_count(1)
    expect(page.locator("[data-ticket-row]")).to_contain_text("Mouse wheel sticks")
    page.wait_for_load_state()
    page.locator("body").click()
    page.keyboard.press("g")
    page.keyboard.press("m")
    expect(page).to_have_url(f"{agent.base_url}/desk/?queue=mine")
    page.wait_for_load_state()
    expect(page.locator("[data-ticket-row]")).to_contain_text(first.reference)
    page.keyboard.press("c")
    expect(page).to_have_url(f"{agent.base_url}/desk/new/")
    agent.shot("desk-new-ticket")
    assert Ticket.objects.get(pk=first.pk).assignee_id == personas.agent_desk.pk


def test_dark_theme_is_remembered_and_pages_fit_a_phone(ui, personas):
    ticket = make_ticket(personas, title="Phone cannot sync mail")
    requester = ui(personas.requester_acme)
    page = requester.go("/portal/")
    page.locator("[data-theme-toggle]").first.click()
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    page = requester.go(f"/portal/t/{ticket.reference}/")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    requester.shot("portal-ticket-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    page = requester.go("/portal/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the portal scrolls sideways on a phone ({width}px)"
    requester.shot("portal-home-phone")

    agent = ui(personas.agent_desk)
    agent.page.set_viewport_size({"width": 390, "height": 844})
    page = agent.go(f"/desk/t/{ticket.reference}/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the ticket page scrolls sideways on a phone ({width}px)"
    agent.shot("desk-ticket-phone", full_page=True)
