"""The dashboard in the browser (issue 14, item 10): read a figure's definition, follow the
figure to the queue of its tickets, download the spreadsheet; in the light and the dark theme at
1,440 px, and on a phone."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, THEMES, WIDE, fits_a_phone, themed
from tests.reporting.conftest import desk, service_desk  # noqa: F401 (fixtures)

PERIOD = "/desk/dashboard/?period=custom&start=2026-03-02&end=2026-03-04&tz=UTC"


@pytest.mark.parametrize("theme", THEMES)
def test_a_figure_says_what_it_counts_and_opens_its_tickets(ui, personas, service_desk, theme):  # noqa: F811
    lead = ui(personas.lead_desk)
    lead.page.set_viewport_size(WIDE)
    page = themed(lead, theme, PERIOD)
    expect(page.locator("#period")).to_contain_text("2026-03-02 to 2026-03-04; days in UTC")

    # The definition is beside the figure, and the figure's link is described by it.
    definition = page.locator("#def-mttr")
    expect(definition).to_be_visible()
    expect(definition).to_contain_text("Logged to last resolution")
    figure = page.locator("a[data-drill=mttr]")
    expect(figure).to_have_attribute("aria-describedby", "def-mttr")
    expect(figure).to_have_text("5 tickets")  # the desk's lead does not see Globex's T7
    expect(page.locator("#table-agents")).to_be_visible()
    lead.shot(f"desk-dashboard-{theme}-1440", full_page=True)
    assert not lead.accessibility_problems()

    # Reached by keyboard and followed: the queue lists exactly those tickets.
    figure.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/desk/\?queue=all"))
    expect(page.locator("#queue-total")).to_contain_text("5 tickets")
    expect(page.locator("#queue-total")).to_contain_text("resolved from 2026-03-02 to 2026-03-04")
    expect(page.locator("[data-ticket-row]")).to_have_count(5)
    lead.shot(f"desk-queue-from-dashboard-{theme}-1440", full_page=True)

    # Back on the dashboard, the spreadsheet: one row per team, the time zone stated.
    page = lead.go(PERIOD)
    with page.expect_download() as download:
        page.locator("a[data-export=sheet]").click()
    path = download.value.path()
    assert download.value.suggested_filename == ("service-desk-by-team-20260302-20260304-UTC.csv")
    with open(path, encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert rows[0]["Team"] == "All teams" and rows[0]["Time zone"] == "UTC"
    assert rows[0]["Resolved and still resolved (MTTR tickets)"] == "5"


def test_the_dashboard_fits_a_phone(ui, personas, service_desk):  # noqa: F811
    lead = ui(personas.lead_desk)
    lead.page.set_viewport_size(PHONE)
    for theme in THEMES:
        page = themed(lead, theme, PERIOD)
        fits_a_phone(page)
        expect(page.locator("#def-mttr")).to_be_visible()
        figure = page.locator("a[data-drill=mttr]")
        figure.scroll_into_view_if_needed()
        expect(figure).to_be_in_viewport()
        lead.shot(f"desk-dashboard-{theme}-390", full_page=True)
    assert not lead.accessibility_problems()
    figure.click()
    expect(page.locator("[data-ticket-row]")).to_have_count(5)
    fits_a_phone(page)
