"""The service desk story end to end in a real browser: portal -> workspace -> portal ->
dashboard, with screenshots of each main screen."""

from __future__ import annotations

from playwright.sync_api import expect

from servio.core import outbox
from servio.tickets.models import Comment, Ticket
from tests.browser.conftest import number_in
from tests.factories import PASSWORD


def test_requester_reports_agent_resolves_requester_rates_dashboard_counts(ui, personas):
    rita, dana = personas.requester_acme, personas.agent_desk

    # A requester signs in through the form and reports an incident in the portal.
    requester = ui()
    page = requester.go("/login/")
    requester.shot("login")
    page.fill("#id_username", rita.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(requester.base_url + "/portal/")
    page.get_by_role("link", name="Something is broken").click()
    page.fill("#id_title", "VPN drops every ten minutes")
    page.fill("#id_description", "Since this morning. **Urgent** for the <b>finance</b> close.")
    page.locator("input[name=how_bad][value=stops_work]").check()
    requester.shot("portal-new-ticket")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("h1#ticket-title")).to_have_text("VPN drops every ten minutes")
    reference = number_in(page.locator("main").inner_text())
    requester.shot("portal-ticket-new")
    ticket = Ticket.objects.get(title="VPN drops every ten minutes")
    assert ticket.reference == reference and ticket.urgency == 1

    # The agent finds it in the unassigned queue and assigns it to themselves.
    agent = ui(dana)
    page = agent.go("/desk/?queue=unassigned")
    row = page.locator("[data-ticket-row]", has_text=reference)
    expect(row).to_be_visible()
    agent.shot("desk-queue-unassigned")
    row.locator("a[data-ticket-link]").click()
    expect(page.locator("#ticket-title")).to_contain_text("VPN drops")
    page.wait_for_load_state()  # htmx and servio.js are deferred: let them bind first
    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator("#ticket-assignment")).to_contain_text("Dana Desk")
    expect(page.locator("#ticket-timeline")).to_contain_text("assigned")
    page.wait_for_load_state()

    # An internal note, then a public reply; the button says which one it sends.
    page.locator("label[for=composer-internal]").click()
    expect(page.locator("#composer-internal")).to_be_checked()
    expect(page.locator("#composer-send")).to_have_text("Add internal note")
    page.fill("#composer-body", "Checked the concentrator logs: **secret** internal detail.")
    page.click("#composer-send")
    expect(page.locator("#ticket-timeline .is-note")).to_contain_text("internal detail")
    page.locator("label[for=composer-public]").click()
    expect(page.locator("#composer-send")).to_have_text("Send reply to requester")
    page.fill("#composer-body", "We are on it: please reconnect with the new profile.")
    page.click("#composer-send")
    expect(page.locator("#ticket-timeline .is-reply")).to_contain_text("new profile")
    agent.shot("desk-ticket", full_page=True)

    # The requester sees the reply but not the note, and replies back.
    page = requester.go(f"/portal/t/{reference}/")
    expect(page.locator("main")).to_contain_text("please reconnect with the new profile")
    expect(page.locator("main")).not_to_contain_text("internal detail")
    page.fill("#id_body", "Reconnected, it holds for now. Thanks!")
    page.click("#reply-send")
    expect(page.locator("main")).to_contain_text("Reconnected, it holds")
    assert Comment.objects.filter(ticket=ticket, author=rita).count() == 1

    # The agent's open ticket page picks the reply up by itself (the ~10 s poll).
    page = agent.page
    expect(page.locator("#ticket-timeline")).to_contain_text("Reconnected, it holds", timeout=15000)
    expect(page.locator("#ticket-notice")).to_contain_text("updated")

    # The agent resolves it with the fields the workflow requires.
    page.locator("summary[data-transition=resolve]").click()
    page.locator("#tr-resolve-resolution_code").select_option("fixed")
    page.fill("#tr-resolve-resolution_notes", "New VPN profile rolled out.")
    page.locator("details.transition[open] button[type=submit]").click()
    expect(page.locator("#ticket-header .status-badge")).to_have_text("Resolved")
    outbox.drain()  # what the background runner does within a second: the resolution email

    # The requester confirms the resolution and rates it.
    page = requester.go(f"/portal/t/{reference}/")
    requester.shot("portal-ticket-resolved", full_page=True)
    page.locator("button[data-action=close]").click()
    expect(page.locator(".status-badge")).to_have_text("Closed")
    page.locator("#rate input[name=rating][value='5']").check()
    page.fill("#id_comment", "Quick and clear.")
    page.get_by_role("button", name="Send my rating").click()
    expect(page.locator("main")).to_contain_text("You rated this 5/5")

    # The team lead's dashboard counts it.
    lead = ui(personas.lead_desk)
    page = lead.go("/desk/dashboard/")
    expect(page.locator("[data-kpi=csat]")).to_contain_text("5.00")
    expect(page.locator("[data-kpi=csat-responses]")).to_contain_text("1 response")
    expect(page.locator("#table-daily")).to_contain_text("1")
    page.wait_for_function("() => !!window.Chart && Chart.getChart('chart-daily')")
    lead.shot("desk-dashboard", full_page=True)
