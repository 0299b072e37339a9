"""Issue 14, items 2, 3 and 5 in the browser: a view saved after filtering without a page load
keeps those filters and names the page; canned responses are picked with the keyboard, shown
filled in and inserted; the queue fits 1,280 px, counts its queues, names its SLA clocks and
is a list of cards on a phone. Light and dark themes, 1,440 px and a phone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from servio.tickets import services
from servio.workspace import services as desk
from servio.workspace.models import CannedResponse, SavedView
from tests.browser.conftest import PHONE, WIDE, themed
from tests.ui import make_ticket, sla_policy


def test_a_view_saved_after_filtering_without_a_reload_keeps_the_filters(ui, personas):
    urgent = make_ticket(personas, title="Core switch down", urgency=1, impact=1)
    make_ticket(personas, title="Mouse squeaks")
    lead = ui(personas.lead_desk)
    lead.page.set_viewport_size(WIDE)
    page = themed(lead, "light", "/desk/?queue=all")
    expect(page.locator("[data-ticket-row]")).to_have_count(2)
    page.evaluate("() => { window.notReloaded = true; }")

    # Filter with the searchable priority picker; the results come by HTMX, the URL is pushed.
    page.locator("summary", has_text="Filters").click()
    page.locator("#id_priority-chosen").click()
    search = page.locator("#id_priority").locator("xpath=..").locator("[data-picker-search]")
    expect(search).to_be_focused()
    search.fill("crit")
    expect(page.locator("#id_priority label:visible")).to_have_count(1)
    page.keyboard.press("Enter")  # to the one option left, without sending the form
    page.keyboard.press("Space")
    expect(page.locator("#id_priority-chosen")).to_have_text("P1 - Critical")
    page.keyboard.press("Escape")
    expect(
        page.locator("#id_priority").locator("xpath=ancestor::details[1]")
    ).not_to_have_attribute("open", "")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("[data-ticket-row]")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"priority=1"))
    assert page.evaluate("() => window.notReloaded") is True

    # Save it, shared with the lead's team (the only team offered).
    page.get_by_text("Save this view").click()
    share = page.locator("#id_save_team")
    expect(share.locator("option")).to_have_text(["Only me", "Service Desk"])
    page.locator("#id_save_name").fill("Critical for the desk")
    share.select_option(label="Service Desk")
    lead.shot("desk-save-view")
    page.get_by_role("button", name="Save as a new view").click()
    expect(page.locator("#queue-heading")).to_have_text("Critical for the desk")
    expect(page).to_have_title("Critical for the desk · Servio")
    expect(page.locator(".alert-success")).to_contain_text("saved")
    expect(page.locator("[data-ticket-row]")).to_have_count(1)
    expect(page.locator("[data-ticket-row]")).to_contain_text(urgent.reference)
    view = SavedView.objects.get(name="Critical for the desk")
    assert (view.queue, view.filters, view.team) == ("all", {"priority": [1]}, personas.team_desk)
    lead.shot("desk-saved-view")

    # Rename and reorder on the views page.
    desk.saved_view_create(actor=personas.lead_desk, name="Later", queue="recent", filters={})
    page = lead.go("/desk/views/")
    row = page.locator(f"#view-{view.pk}")
    row.get_by_label("Name").fill("P1 for the desk")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("P1 for the desk")
    page.locator("#own-views li").nth(1).get_by_role("button", name="Move up").click()
    expect(page.locator("#own-views li").first).to_contain_text("Later")
    lead.shot("desk-views-manage")

    # An agent, who may not share, is not offered a team.
    agent = ui(personas.agent_desk)
    page = agent.go("/desk/?queue=all")
    page.get_by_text("Save this view").click()
    expect(page.locator("#save-view-form")).to_be_visible()
    expect(page.locator("#save-view-form #id_save_team")).to_have_count(0)
    # A refusal comes back beside the field, in place (HTMX; no console error).
    page.get_by_role("button", name="Save as a new view").click()
    expect(page.locator("#save-view-form .invalid-feedback")).to_contain_text("required")
    page.locator("#id_save_name").fill("Everything")
    page.get_by_role("button", name="Save as a new view").click()
    expect(page.locator("#queue-heading")).to_have_text("Everything")
    expect(page.get_by_role("link", name="P1 for the desk")).to_be_visible()  # shared with her


def test_canned_responses_are_picked_previewed_and_inserted(ui, personas):
    sla_policy()
    ticket = make_ticket(personas, title="Cannot print *labels*")
    agent = ui(personas.agent_desk)
    agent.page.set_viewport_size(WIDE)
    page = themed(agent, "dark", f"/desk/t/{ticket.reference}/")

    # No responses yet: the picker is there anyway and offers to create one.
    page.keyboard.press("i")
    expect(page.locator("#canned-picker")).to_have_attribute("open", "")
    create = page.get_by_role("link", name="Create one")
    expect(create).to_be_focused()
    agent.shot("desk-canned-empty-dark")
    create.click()
    expect(page).to_have_url(re.compile(r"/desk/responses/$"))
    page.locator("#id_title").fill("Acknowledge")
    page.locator("#id_body").fill(
        "Hello {{ requester.first_name }}, we are on {{ ticket.number }} ({{ ticket.title }})."
        "\n\n{{ agent.name }}"
    )
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#response-preview")
    expect(preview).to_contain_text("Hello Rita, we are on INC-000123")
    agent.shot("desk-canned-new-preview-dark")
    page.get_by_role("button", name="Save response").click()
    expect(page.locator(".alert-success")).to_contain_text("Acknowledge")
    desk.canned_response_create(
        actor=personas.lead_desk, title="VPN profile", body="Use the new VPN profile.",
        team=personas.team_desk,
    )  # fmt: skip

    # On the ticket: type, leave the box, open the picker with i, search, preview, insert.
    page = agent.go(f"/desk/t/{ticket.reference}/")
    box = page.locator("#composer-body")
    box.fill("Thanks for the report.\n\n")
    page.keyboard.press("Escape")
    page.keyboard.press("i")
    search = page.locator("#canned-search")
    expect(search).to_be_focused()
    search.fill("ack")
    expect(page.locator("#canned-options li:visible")).to_have_count(1)
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    preview = page.locator("#canned-preview")
    expect(preview).to_contain_text(f"Hello Rita, we are on {ticket.reference}")
    expect(preview).to_contain_text("(Cannot print *labels*)")  # shown as typed, not italic
    preview.get_by_role("button", name="Insert into the reply").scroll_into_view_if_needed()
    agent.shot("desk-canned-preview-dark")
    preview.get_by_role("button", name="Insert into the reply").click()
    expect(page.locator("#canned-picker")).not_to_have_attribute("open", "")
    expect(box).to_be_focused()
    expect(box).to_have_value(
        re.compile(r"^Thanks for the report\.\n\nHello Rita, we are on INC-\d{6} \(Cannot print")
    )
    page.get_by_role("button", name="Send reply to requester").click()
    expect(page.locator("#composer .alert-success")).to_contain_text("Reply sent")
    comment = ticket.comments.get()
    assert "Hello Rita" in comment.body and r"\*labels\*" in comment.body
    expect(page.locator(".timeline-entry.is-reply")).to_contain_text("Cannot print *labels*")
    # Escape closes the picker and gives the focus back to its button.
    page.keyboard.press("i")
    page.keyboard.press("Escape")
    expect(page.locator("#canned-picker")).not_to_have_attribute("open", "")
    expect(page.locator("#canned-picker summary")).to_be_focused()
    assert CannedResponse.objects.count() == 2


def _columns_fit(page) -> list[str]:
    """Columns of the queue that end beyond the visible part of the table."""
    return page.evaluate(
        """() => {
          const box = document.querySelector('.queue-scroll').getBoundingClientRect();
          return Array.from(document.querySelectorAll('.queue-table thead th'))
            .filter(th => th.getBoundingClientRect().right > box.right + 0.5)
            .map(th => th.textContent.trim());
        }"""
    )


def test_the_queue_fits_counts_names_its_clocks_and_is_cards_on_a_phone(ui, personas):
    sla_policy()
    dana = personas.agent_desk
    for n in range(4):
        make_ticket(
            personas,
            title=f"Printer on floor {n} jams every morning since the firmware upgrade",
            urgency=1 + n % 3,
        )
    mine = make_ticket(personas, title="Laptop battery swells", urgency=1, impact=1)
    services.ticket_assign(actor=dana, ticket=mine, team=personas.team_desk, assignee=dana)
    services.comment_add(actor=dana, ticket=mine, body="Replacing it today.")  # responded
    agent = ui(dana)
    for theme in ("light", "dark"):
        for width in (1280, 1440):
            agent.page.set_viewport_size({"width": width, "height": 900})
            page = themed(agent, theme, "/desk/?queue=all")
            assert _columns_fit(page) == [], f"{width}px clips columns: {_columns_fit(page)}"
            width_of = "() => document.querySelector('.queue-scroll').scrollWidth"
            client = "() => document.querySelector('.queue-scroll').clientWidth"
            assert page.evaluate(width_of) <= page.evaluate(client)
        agent.shot(f"desk-queue-1440-{theme}")
    links = page.locator("[data-queue-link]")
    expect(links.filter(has_text="My work").locator("[data-queue-count]")).to_have_text("1 open")
    expect(links.filter(has_text="Unassigned").locator("[data-queue-count]")).to_have_text("4 open")
    row = page.locator("[data-ticket-row]", has_text=mine.reference)
    expect(row.locator(".sla-badge")).to_contain_text(re.compile(r"^Resolution due in \d"))
    other = page.locator("[data-ticket-row]").filter(has_not_text=mine.reference).first
    expect(other.locator(".sla-badge")).to_contain_text(re.compile(r"^Response due in \d"))

    for theme in ("light", "dark"):
        agent.page.set_viewport_size(PHONE)
        page = themed(agent, theme, "/desk/?queue=all")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the queue scrolls sideways on a phone ({width}px)"
        card = page.locator("[data-ticket-row]", has_text=mine.reference)
        assert card.evaluate("el => getComputedStyle(el).display") == "grid"
        for cell in (".cell-status", ".cell-priority", ".cell-requester", ".cell-sla"):
            expect(card.locator(cell)).to_be_visible()
        expect(card.locator(".cell-requester")).to_contain_text("Rita Acme")
        expect(card.locator(".cell-updated")).to_be_hidden()
        agent.shot(f"desk-queue-phone-{theme}", full_page=True)


def test_on_a_phone_the_picker_views_and_responses_fit(ui, personas):
    ticket = make_ticket(personas, title="Phone cannot sync mail")
    desk.canned_response_create(
        actor=personas.agent_desk, title="Sync", body="Hi {{ requester.first_name }}, re-add it."
    )
    desk.saved_view_create(actor=personas.agent_desk, name="Mine, urgent", queue="mine", filters={})
    agent = ui(personas.agent_desk)
    agent.page.set_viewport_size(PHONE)
    for theme in ("light", "dark"):
        page = themed(agent, theme, f"/desk/t/{ticket.reference}/")
        page.locator("#canned-picker summary").click()
        page.locator("#canned-options button").first.click()
        insert = page.get_by_role("button", name="Insert into the reply")
        expect(insert).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the open picker scrolls sideways ({width}px)"
        insert.scroll_into_view_if_needed()
        agent.shot(f"desk-canned-phone-{theme}")
        insert.click()
        expect(page.locator("#composer-body")).to_have_value("Hi Rita, re-add it.")
        for path in ("/desk/views/", "/desk/responses/"):
            page = agent.go(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} scrolls sideways on a phone ({width}px)"
        agent.shot(f"desk-responses-phone-{theme}", full_page=True)
