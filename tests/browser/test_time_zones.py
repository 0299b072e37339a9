"""A person changes their time zone in their settings and sees the ticket's times move
(decision 37): an agent in the desk, a requester in the portal; in the light and the dark theme
at 1,440 px, and on a phone (issue 14, item 12). Screenshots go to the test artefacts."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from servio.tickets.models import Ticket
from tests.browser.conftest import PHONE, THEMES, WIDE, fits_a_phone, themed
from tests.ui import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)

NOON_UTC = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)  # winter: Berlin UTC+1


def _ticket_at_noon(personas):
    ticket = make_ticket(personas, title="Projector shows no picture")
    Ticket.objects.filter(pk=ticket.pk).update(created_at=NOON_UTC, updated_at=NOON_UTC)
    return ticket


@pytest.mark.parametrize("theme", THEMES)
def test_an_agent_changes_their_zone_and_the_ticket_times_follow(ui, personas, theme):
    ticket = _ticket_at_noon(personas)
    session = ui(personas.agent_desk)
    session.page.set_viewport_size(WIDE)
    page = themed(session, theme, f"/desk/t/{ticket.reference}/")
    opened = page.locator("time", has_text="2026-01-15")
    expect(opened.first).to_have_text("2026-01-15 12:00")  # the installation's zone, UTC

    page = session.go("/settings/")
    box = page.get_by_role("combobox", name="Time zone")
    box.fill("Mars/Olympus_Mons")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.locator("#id_time_zone-errors")).to_contain_text("is not a time zone name")
    expect(box).to_have_attribute("aria-invalid", "true")
    session.shot(f"time-zone-refused-{theme}-1440")

    box.fill("Europe/Berlin")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.get_by_role("alert").or_(page.locator(".alert-success")).first).to_contain_text(
        "Europe/Berlin"
    )
    expect(page.locator("[data-effective-zone]")).to_have_text("Europe/Berlin")
    assert not session.accessibility_problems()
    session.shot(f"time-zone-settings-{theme}-1440")

    page = session.go(f"/desk/t/{ticket.reference}/")
    expect(page.locator("time", has_text="2026-01-15").first).to_have_text("2026-01-15 13:00")
    session.shot(f"time-zone-desk-ticket-berlin-{theme}-1440")
    page = session.go("/desk/?queue=all")
    row = page.locator("[data-ticket-row]", has_text=ticket.reference)
    expect(row.locator(".cell-updated time")).to_have_attribute("title", "2026-01-15 13:00 CET")

    # Empty again: back to the organisation's zone (the provider's: the installation's, UTC).
    page = session.go("/settings/")
    page.get_by_role("combobox", name="Time zone").fill("")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.locator("[data-effective-zone]")).to_have_text("UTC")
    page = session.go(f"/desk/t/{ticket.reference}/")
    expect(page.locator("time", has_text="2026-01-15").first).to_have_text("2026-01-15 12:00")


def test_a_requester_sees_their_portal_in_the_zone_they_choose(ui, personas):
    ticket = _ticket_at_noon(personas)
    session = ui(personas.requester_acme)
    page = session.go(f"/portal/t/{ticket.reference}/")
    expect(page.get_by_text("2026-01-15 12:00")).to_be_visible()
    page = session.go("/settings/")
    page.get_by_role("combobox", name="Time zone").fill("America/New_York")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.locator("[data-effective-zone]")).to_have_text("America/New_York")
    page = session.go(f"/portal/t/{ticket.reference}/")
    expect(page.get_by_text("2026-01-15 07:00")).to_be_visible()
    session.shot("time-zone-portal-ticket-new-york")


def test_the_time_zone_setting_fits_a_phone(ui, personas):
    ticket = _ticket_at_noon(personas)
    session = ui(personas.agent_desk)
    session.page.set_viewport_size(PHONE)
    for theme in THEMES:
        page = themed(session, theme, "/settings/")
        fits_a_phone(page)
        box = page.get_by_role("combobox", name="Time zone")
        expect(box).to_be_in_viewport()
        save = page.get_by_role("button", name="Save time zone")
        save.scroll_into_view_if_needed()
        expect(save).to_be_in_viewport()
        session.shot(f"time-zone-settings-{theme}-390", full_page=True)
        assert not session.accessibility_problems()
    box.fill("Europe/Berlin")
    save.click()
    expect(page.locator("[data-effective-zone]")).to_have_text("Europe/Berlin")
    fits_a_phone(page)
    page = session.go(f"/desk/t/{ticket.reference}/")
    fits_a_phone(page)
    expect(page.locator("time", has_text="2026-01-15").first).to_have_text("2026-01-15 13:00")
