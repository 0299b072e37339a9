"""The admin's configuration without JSON (issue 14, item 11), in the browser: an administrator
ticks an SLA policy's pausing statuses, types its thresholds, adds an escalation row, changes a
cell of the priority matrix grid, and sees each saved; in the light and the dark theme (the
desk's choice is the admin's too) at 1,440 px, and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from servio.sla.models import Calendar, SlaPolicy
from servio.tickets.models import PriorityRule
from tests.browser.conftest import PHONE, THEMES, WIDE, fits_a_phone, themed


def _matrix():
    # The migration's matrix is gone when an earlier live-server test flushed the tables.
    for impact in (1, 2, 3):
        for urgency in (1, 2, 3):
            PriorityRule.objects.get_or_create(
                impact=impact, urgency=urgency, defaults={"priority": impact + urgency - 1}
            )


def _gold():
    return SlaPolicy.objects.create(
        name="Gold",
        pause_on=["on_hold:awaiting_requester"],
        warning_thresholds=[75, 90],
        escalations=[{"at": 100, "action": "notify_team_lead"}],
    )


@pytest.mark.parametrize("theme", THEMES)
def test_an_admin_edits_an_sla_policy_and_the_priority_matrix(ui, personas, theme):
    _matrix()
    policy = _gold()
    admin = ui(personas.admin)
    admin.page.set_viewport_size(WIDE)
    page = themed(admin, theme, f"/admin/sla/slapolicy/{policy.pk}/change/")
    expect(page.locator("#header")).to_contain_text("Servio administration")
    expect(page.locator("#header a", has_text="Desk")).to_have_attribute("href", "/desk/")
    expect(page.locator("textarea[name=pause_on]")).to_have_count(0)

    # Pausing statuses: untick one reason, tick another.
    expect(page.get_by_label("On hold: awaiting requester")).to_be_checked()
    page.get_by_label("On hold: awaiting requester").uncheck()
    page.get_by_label("On hold: awaiting vendor").check()
    # Thresholds: number boxes; a wrong one first, answered beside the field.
    page.get_by_label("Warning 2").fill("120")
    page.locator("input[name=escalations-1-at]").fill("150")
    page.get_by_label("Action (escalation, row 2)").select_option("reassign")
    page.get_by_label("Team (reassign, notify) (escalation, row 2)").select_option(
        str(personas.team_desk.pk)
    )
    page.locator("input[name=_continue]").click()
    errors = page.locator(".field-warning_thresholds .errorlist")
    expect(errors).to_contain_text("change 120")
    admin.shot(f"admin-sla-policy-error-{theme}-1440", full_page=True)
    page.get_by_label("Warning 2").fill("85")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.get_by_label("On hold: awaiting vendor")).to_be_checked()
    expect(page.get_by_label("Warning 2")).to_have_value("85")
    admin.shot(f"admin-sla-policy-{theme}-1440", full_page=True)
    policy.refresh_from_db()
    assert policy.pause_on == ["on_hold:awaiting_vendor"]
    assert policy.warning_thresholds == [75, 85]
    assert policy.escalations == [
        {"at": 100, "action": "notify_team_lead"},
        {"at": 150, "action": "reassign", "team": personas.team_desk.pk},
    ]

    # A calendar's weekly hours: rows of day, from and to.
    calendar = Calendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", hours={"mon": [["09:00", "17:00"]]}
    )
    page = admin.go(f"/admin/sla/calendar/{calendar.pk}/change/")
    page.get_by_label("Day (weekly hours, row 2)").select_option("tue")
    page.get_by_label("From (weekly hours, row 2)").fill("8:30")
    page.get_by_label("To (weekly hours, row 2)").fill("16:30")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.get_by_label("From (weekly hours, row 2)")).to_have_value("08:30")
    admin.shot(f"admin-sla-calendar-{theme}-1440", full_page=True)
    calendar.refresh_from_db()
    assert calendar.hours == {"mon": [["09:00", "17:00"]], "tue": [["08:30", "16:30"]]}

    # The priority matrix: one grid, a select per cell.
    page = admin.go("/admin/tickets/priorityrule/")
    grid = page.locator("#priority-matrix")
    expect(grid.locator("select")).to_have_count(9)
    cell = page.get_by_label("Priority for impact 3 - Low, urgency 3 - Low")
    cell.select_option("4")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text("The priority matrix is saved")
    expect(page.get_by_label("Priority for impact 3 - Low, urgency 3 - Low")).to_have_value("4")
    admin.shot(f"admin-priority-matrix-{theme}-1440", full_page=True)
    assert PriorityRule.objects.get(impact=3, urgency=3).priority == 4
    assert not admin.accessibility_problems()


def _right_edge(page, selector: str) -> float:
    return page.locator(selector).evaluate("el => el.getBoundingClientRect().right")


def test_the_sla_policy_form_and_the_priority_matrix_fit_a_phone(ui, personas):
    _matrix()
    policy = _gold()
    admin = ui(personas.admin)
    admin.page.set_viewport_size(PHONE)
    for theme in THEMES:
        page = themed(admin, theme, f"/admin/sla/slapolicy/{policy.pk}/change/")
        fits_a_phone(page)
        for field in ("On hold: awaiting vendor", "Warning 2", "Action (escalation, row 2)"):
            page.get_by_label(field).scroll_into_view_if_needed()
            expect(page.get_by_label(field)).to_be_in_viewport()
        assert _right_edge(page, "#id_escalations") <= PHONE["width"]
        admin.shot(f"admin-sla-policy-{theme}-390", full_page=True)
        page = admin.go("/admin/tickets/priorityrule/")
        fits_a_phone(page)
        assert _right_edge(page, "#priority-matrix") <= PHONE["width"]
        cell = page.get_by_label("Priority for impact 3 - Low, urgency 3 - Low")
        cell.scroll_into_view_if_needed()  # a grid wider than a phone scrolls in its own box
        expect(cell).to_be_in_viewport(ratio=1)
        admin.shot(f"admin-priority-matrix-{theme}-390", full_page=True)
    assert not admin.accessibility_problems()
    cell.select_option("4")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text("The priority matrix is saved")
    assert PriorityRule.objects.get(impact=3, urgency=3).priority == 4
