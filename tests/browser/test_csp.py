"""The main screens work under the Content-Security-Policy: no violation is reported (the
session fixture fails on any), and what their scripts draw is there (the API docs, the
dashboard's charts, the admin's widgets, htmx swaps)."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from servio.surveys import services as survey_services
from servio.tickets import services
from tests.ui import make_ticket, sla_policy


def test_main_screens_report_no_policy_violation(ui, personas):
    sla_policy()
    ticket = make_ticket(personas, title="Cannot print", description="Since **Monday**.")
    services.comment_add(actor=personas.agent_desk, ticket=ticket, body="Checking")
    invitation = survey_services.survey_invite(ticket=ticket, event_id=uuid.uuid4())

    visitor = ui()
    for path in ("/login/", "/password/reset/", f"/survey/{invitation.token}/"):
        visitor.go(path)

    requester = ui(personas.requester_acme)
    for path in ("/portal/", "/portal/new/", f"/portal/t/{ticket.reference}/", "/settings/"):
        requester.go(path)

    agent = ui(personas.agent_desk)
    page = agent.go("/desk/?queue=all")
    expect(page.locator("[data-ticket-row]")).to_have_count(1)
    page = agent.go(f"/desk/t/{ticket.reference}/")
    page.locator("#ticket-title a", has_text="Edit").click()  # an htmx swap
    expect(page.locator("form.inline-editor")).to_be_visible()
    page.locator("[data-transition]").first.click()  # a transition's form over the page
    # The live server's in-memory SQLite locks a table per request: let the page's own
    # requests finish before the next page asks.
    page.wait_for_load_state("networkidle")
    agent.go("/notifications/")

    lead = ui(personas.lead_desk)
    page = lead.go("/desk/dashboard/")
    for chart in ("chart-daily", "chart-backlog", "chart-csat"):
        box = page.locator(f"#{chart}").bounding_box()
        assert box and box["height"] > 50, chart  # Chart.js sized and drew it

    admin = ui(personas.admin)
    for path in (
        "/admin/",
        "/admin/tickets/ticket/",
        f"/admin/tickets/ticket/{ticket.pk}/change/",
        f"/admin/accounts/user/{personas.agent_desk.pk}/change/",
        "/admin/accounts/team/add/",
    ):
        admin.go(path)
    page = admin.go("/api/v1/docs")
    # Swagger UI is heavy: on a busy 2-core machine a click took over the default 8 s.
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=30_000)
    page.locator(".swagger-ui .opblock-summary").first.click(timeout=30_000)
    expect(page.locator(".swagger-ui .opblock-body").first).to_be_visible(timeout=30_000)


def test_an_inline_script_is_refused_and_reported(ui):
    # The check above means something: a script slipped into a page does not run, and the
    # refusal reaches the errors the session fixture fails on.
    visitor = ui()
    page = visitor.go("/login/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.body.append(s); }"
    )
    for _ in range(50):
        if any("CSP violation" in error for error in visitor.errors):
            break
        page.wait_for_timeout(20)
    assert page.evaluate("() => window.injected") is None
    reported = [error for error in visitor.errors if "CSP violation: script-src-elem" in error]
    assert reported, visitor.errors
    visitor.errors.clear()
