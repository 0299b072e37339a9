"""axe-core (from npm) finds no serious or critical WCAG 2 A/AA problem on the main screens,
in the light and the dark theme."""

from __future__ import annotations

import pytest

from servio.tickets import services
from tests.browser.conftest import AXE
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
    services.ticket_transition(
        actor=rita, ticket=cancelled, transition="cancel", values={"reason": "Not needed"}
    )
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


# Every alert, banner and badge, and the error beside a field: what issue 14 holds to 4.5:1.
NOTICES = ".alert, .badge, .invalid-feedback"
# What each shown notice is, so the test can tell it met every state it means to check.
NOTICE_KINDS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .flatMap((e) => {
    const kinds = [...e.classList].filter((c) => /^(alert-(?!title)|bg-)/.test(c));
    if (e.dataset.status) kinds.push('status:' + e.dataset.status);
    if (e.classList.contains('priority-badge')) kinds.push('priority:' + e.textContent.slice(0, 2));
    if (e.classList.contains('sla-badge')) {
      const tint = [...e.classList].find((c) => c.startsWith('bg-'));
      kinds.push(e.dataset.clockState ? 'clock:' + e.dataset.clockState
        : /paused/.test(e.textContent) ? 'clock:paused' : 'sla:' + tint);
    }
    return kinds;
  })"""


def notice_contrast(session, seen: set[str]) -> list[str]:
    """axe-core's colour-contrast rule on the page's alerts, badges and field errors: each
    below 4.5:1 (3:1 for large text), and each axe could not measure (an image behind it, a
    colour it cannot read): a notice is never let through unmeasured. Adds what was shown to
    `seen`."""
    page = session.page
    seen.update(page.evaluate(NOTICE_KINDS, NOTICES))
    if not page.locator(NOTICES).count():
        return []
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        "(selectors) => axe.run({include: selectors.map((s) => [s])},"
        " {runOnly: ['color-contrast']})",
        NOTICES.split(", "),
    )
    return [
        f"{page.url} [{page.locator('html').get_attribute('data-bs-theme')}]: {verdict} "
        f"{node['target'][0]}: {(node['any'] or [{}])[0].get('message', '')[:160]}"
        for verdict in ("violations", "incomplete")
        for rule in result[verdict]
        for node in rule["nodes"]
    ]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_alert_and_badge_reads_at_4_5_to_1(ui, personas, theme):
    """Issue 14 (quality): in the desk, the portal and the sign-in pages, the message after a
    save, a conflict (stale version), a form error, the "ticket changed" notice, every state
    of an SLA clock, every status and priority badge and the solid ones, in both themes,
    measured one by one (axe-core's colour-contrast rule) and saved as screenshots
    (test-artifacts/screenshots/contrast-<theme>-<state>.png)."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from servio.notifications.models import Notification
    from servio.sla.models import SlaClock
    from servio.tickets.models import Ticket

    policy = sla_policy()
    policy.pause_on = ["on_hold:awaiting_requester"]
    policy.save()
    dana, rita = personas.agent_desk, personas.requester_acme
    resolve = ("resolve", {"resolution_code": "workaround", "resolution_notes": "Use B."})

    def ticket(title, priority, *steps):
        made = make_ticket(personas, title=title)
        services.ticket_update(actor=dana, ticket=made, version=1, changes={"priority": priority})
        made = Ticket.objects.get(pk=made.pk)
        for name, values in steps:
            actor = rita if name == "close" else dana
            services.ticket_transition(actor=actor, ticket=made, transition=name, values=values)
        return Ticket.objects.get(pk=made.pk)

    urgent = ticket("Payroll down", 1)  # new; its first response due within the hour
    late = ticket("Late laptop", 2, ("start", {}))
    SlaClock.objects.filter(ticket=late).update(due_at=timezone.now() - timedelta(hours=1))
    services.ticket_update(
        actor=dana, ticket=late, version=late.version, changes={"is_major": True}
    )
    services.comment_add(actor=dana, ticket=late, body="Called the vendor.", internal=True)
    Notification.objects.create(
        recipient=dana, event_id=uuid.uuid4(), kind="ticket.assigned", subject="Assigned"
    )  # the unread count in the navigation bar
    waiting = ticket("Which floor?", 3, ("hold", {"hold_reason": "awaiting_requester"}))
    solved = ticket("Scanner", 4, resolve)  # its clocks met
    breached = ticket("Old router", 5)
    SlaClock.objects.filter(ticket=breached).update(breached=True, state="breached")
    services.ticket_transition(
        actor=dana, ticket=breached, transition=resolve[0], values=resolve[1]
    )
    closed = ticket("Monitor", 3, resolve, ("close", {}))
    cancelled = ticket("Never mind", 3, ("cancel", {"reason": "Not needed"}))
    seen: set[str] = set()
    problems: list[str] = []

    def check(session, shot: str) -> None:
        assert session.page.locator("html").get_attribute("data-bs-theme") == theme
        session.page.mouse.move(1, 1)  # away from the control just clicked
        problems.extend(notice_contrast(session, seen))
        session.shot(f"contrast-{theme}-{shot}")

    def themed(user=None):
        session = ui(user)
        session.context.add_init_script(
            f"try {{ localStorage.setItem('servio-theme', '{theme}'); }} catch (e) {{}}"
        )
        return session

    # The sign-in pages: a refused sign-in, a reset asked for a malformed address.
    visitor = themed()
    page = visitor.go("/login/")
    page.fill("#id_username", rita.email)
    page.fill("#id_password", "not the password")
    page.locator("button[type=submit]").click()
    page.locator(".alert-danger").wait_for()
    check(visitor, "login-refused")
    page = visitor.go("/password/reset/")
    page.fill("input[name=email]", "not an address")
    page.locator("button[type=submit]").click()
    page.locator(".invalid-feedback").first.wait_for()
    check(visitor, "reset-error")

    # The desk: the queue (every status and priority, the queue's clocks), then one ticket
    # page per state of an SLA clock.
    agent = themed(dana)
    agent.go("/desk/?queue=all")
    check(agent, "desk-queue")
    for made, name in ((late, "overdue"), (waiting, "paused"), (solved, "met")):
        agent.go(f"/desk/t/{made.reference}/")
        check(agent, f"desk-clock-{name}")
    for made, name in ((breached, "breached"), (cancelled, "cancelled")):
        agent.go(f"/desk/t/{made.reference}/")
        check(agent, f"desk-clock-{name}")

    # On one ticket: a form error, a conflict, the notice that it changed, a save.
    agent.page.clock.install()
    page = agent.go(f"/desk/t/{urgent.reference}/")
    page.locator("#ticket-title a").first.click()
    page.locator(".inline-editor input[name=title]").fill("")
    page.locator(".inline-editor button[type=submit]").click()
    page.locator(".inline-editor .invalid-feedback").wait_for()
    check(agent, "desk-form-error")
    current = Ticket.objects.get(pk=urgent.pk)
    services.ticket_update(
        actor=personas.lead_desk, ticket=current, version=current.version, changes={"urgency": 2}
    )
    page.locator(".inline-editor input[name=title]").fill("Payroll down for all")
    page.locator(".inline-editor button[type=submit]").click()
    page.locator("#conflict").wait_for()
    check(agent, "desk-conflict")
    page.clock.fast_forward("00:11")  # the page asks whether the ticket changed every 10 s
    page.locator("#ticket-notice .alert-info").wait_for()
    check(agent, "desk-changed-notice")
    page.locator("#composer-body").fill("On it.")
    page.locator("#composer-send").click()
    page.locator("#composer .alert-success").wait_for()
    check(agent, "desk-saved")

    # The portal: every status, what happens next for each, a message after a save, a
    # refused action.
    requester = themed(rita)
    requester.go("/portal/?show=all")
    check(requester, "portal-list")
    for made in (urgent, waiting, solved, closed, cancelled):
        requester.go(f"/portal/t/{made.reference}/")
        check(requester, f"portal-{made.status}")
    page = requester.go(f"/portal/t/{solved.reference}/")
    services.ticket_transition(actor=rita, ticket=solved, transition="close")
    page.locator("[data-action=close]").click()
    page.locator("#action-error").wait_for()
    check(requester, "portal-refused")
    page = requester.go(f"/portal/t/{urgent.reference}/")
    page.fill("#id_body", "It is all of us.")
    page.locator("#reply-send").click()
    page.locator(".alert-success").first.wait_for()
    check(requester, "portal-saved")

    expected = {
        *(f"alert-{v}" for v in ("success", "info", "warning", "danger", "secondary")),
        *(f"status:{s}" for s in Ticket.objects.values_list("status", flat=True)),
        *(f"priority:P{p}" for p in range(1, 6)),
        *(f"sla:bg-{c}-lt" for c in ("green", "orange", "red")),
        *(f"clock:{s}" for s in ("paused", "met", "breached", "cancelled")),
        "bg-red",  # solid: a major incident, the unread count
        "bg-yellow",  # solid: an internal note
    }
    assert len({s for s in expected if s.startswith("status:")}) == 6
    assert expected <= seen, sorted(expected - seen)
    assert not problems, "\n".join(problems)
