"""The dashboard page over servio.reporting: pickers, numbers in tables, the CSV link."""

from __future__ import annotations

import datetime as dt

import time_machine

from servio.tickets import services
from tests.ui import make_ticket


def test_the_dashboard_shows_the_figures_and_links_the_csv(client, personas):
    ticket = make_ticket(personas)
    services.ticket_assign(
        actor=personas.agent_desk, ticket=ticket, team=personas.team_desk, assignee=None
    )
    make_ticket(personas, title="Another")
    client.force_login(personas.lead_desk)
    response = client.get("/desk/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-describedby="def-backlog">2</a>' in page
    assert 'id="table-backlog"' in page and "Service Desk" in page
    assert 'id="dashboard-data"' in page and "vendor/chartjs/chart.umd.min.js" in page
    csv = response.context["csv_url"]
    assert csv.startswith("/api/v1/reports/service-desk?") and "format=csv" in csv
    if _reporting_api_mounted():
        export = client.get(csv)
        assert export.status_code == 200 and "csv" in export["Content-Type"]
    team = client.get(f"/desk/dashboard/?period=7&team={personas.team_desk.pk}")
    assert 'aria-describedby="def-backlog">1</a>' in team.content.decode()
    assert f"team={personas.team_desk.pk}" in team.context["csv_url"]


def _reporting_api_mounted() -> bool:
    from servio.api.instance import api
    from servio.reporting.api import router

    return any(mounted is router for _, mounted in api._routers)


def test_bad_periods_are_named_beside_the_field(client, personas):
    client.force_login(personas.lead_desk)
    response = client.get("/desk/dashboard/?period=custom&start=2026-05-10&end=2026-05-01")
    assert 'id="id_end-errors"' in response.content.decode()
    response = client.get("/desk/dashboard/?period=custom")
    page = response.content.decode()
    assert 'id="id_start-errors"' in page and 'id="id_end-errors"' in page


def test_the_page_says_the_time_zone_of_its_days(client, personas, settings):
    settings.SERVIO_REPORT_TIME_ZONES = ["Europe/Berlin", "UTC"]
    personas.lead_desk.time_zone = "Asia/Tokyo"
    personas.lead_desk.save()
    client.force_login(personas.lead_desk)
    with time_machine.travel(dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC), tick=False):
        page = client.get("/desk/dashboard/?period=7")
        tokyo = client.get("/desk/dashboard/?period=7&tz=Asia/Tokyo")
        mars = client.get("/desk/dashboard/?period=7&tz=Mars/Olympus_Mons")
    # 23:30 UTC is already 11 March in Berlin (and in Tokyo): the last 7 days end there.
    assert "2026-03-05 to 2026-03-11; days in Europe/Berlin" in page.content.decode()
    assert page.context["metrics"]["time_zone"] == "Europe/Berlin"
    assert "tz=Europe%2FBerlin" in page.context["csv_url"]
    assert [c[0] for c in page.context["form"].fields["tz"].choices] == [
        "Europe/Berlin",
        "UTC",
        "Asia/Tokyo",  # her own
    ]
    assert "2026-03-05 to 2026-03-11; days in Asia/Tokyo" in tokyo.content.decode()
    assert str(tokyo.context["metrics"]["opened_vs_resolved"][0]["day"]) == "2026-03-05"
    assert 'id="id_tz-errors"' in mars.content.decode()  # named beside the field
    assert "days in Europe/Berlin" in mars.content.decode()
