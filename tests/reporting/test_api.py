"""GET /api/v1/reports/service-desk: JSON and CSV, defaults, refusals, problem documents."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servio.accounts.models import Team
from servio.api.instance import api
from tests.conftest import ApiClient
from tests.reporting.conftest import PERIOD, at

pytestmark = pytest.mark.django_db
URL = "reports/service-desk"
QUERY = {"start": PERIOD["start"].isoformat(), "end": PERIOD["end"].isoformat()}


def test_the_figures_as_json(api_as, service_desk, personas):
    response = api_as(personas.lead_desk, scope="read").get(URL, data=QUERY)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "period",
        "time_zone",
        "backlog",
        "opened_vs_resolved",
        "mtta",
        "mttr",
        "first_contact_resolution",
        "sla_compliance",
        "reassignment_rate",
        "csat",
    }
    assert body["period"] == {"start": "2026-03-02T00:00:00Z", "end": "2026-03-05T00:00:00Z"}
    assert body["time_zone"] == "UTC"  # the installation's report time zone, by default
    assert body["opened_vs_resolved"][0] == {"day": "2026-03-02", "opened": 3, "resolved": 2}
    assert body["mttr"]["count"] == 5
    assert body["first_contact_resolution"] == {"rate": 40.0, "fcr_count": 2, "resolved_count": 5}
    assert body["csat"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert body["backlog"][-1] == {"team_id": None, "team": None, "priority": 3, "count": 1}


def test_filters_and_the_default_period(api_as, service_desk, personas):
    client = api_as(personas.admin)
    globex = client.get(URL, data={**QUERY, "organization": personas.globex.pk}).json()
    assert globex["mtta"]["count"] == 1
    network = client.get(URL, data={**QUERY, "team": personas.team_network.pk}).json()
    assert network["reassignment_rate"]["total"] == 2

    with time_machine.travel(at(3, 5, 12, 0), tick=False):
        default = client.get(URL).json()
    assert default["period"] == {"start": "2026-02-04T00:00:00Z", "end": "2026-03-05T12:00:00Z"}
    assert len(default["opened_vs_resolved"]) == 30
    assert default["mttr"]["count"] == 7  # T11 (February) is now in the period too


def test_agents_and_requesters_are_refused(api_as, personas):
    for who in (personas.agent_desk, personas.requester_acme):
        response = api_as(who).get(URL)
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
    assert ApiClient().get(URL).status_code == 401


def test_an_organisation_the_user_cannot_see_is_not_found(api_as, personas):
    lead = api_as(personas.lead_desk)
    response = lead.get(URL, data={"organization": personas.globex.pk})
    assert response.status_code == 404
    assert response.json()["type"].endswith("/not_found")
    assert response["Content-Type"] == "application/problem+json"
    assert lead.get(URL, data={"organization": personas.acme.pk}).status_code == 200
    assert lead.get(URL, data={"team": 10**6}).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-03-05T00:00:00Z", "end": "2026-03-02T00:00:00Z"}, "end"),
        ({"start": "2025-01-01T00:00:00Z", "end": "2026-03-02T00:00:00Z"}, "end"),
        ({"start": "2026-03-02T00:00:00", "end": "2026-03-05T00:00:00Z"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"end": "0001-01-01T00:00:00Z"}, "end"),
        ({"start": "0001-01-01T00:00:00+01:00", "end": "0001-01-02T00:00:00Z"}, "start"),
        ({"team": 0}, "team"),
        ({"organization": 2**63}, "organization"),
        ({"format": "xlsx"}, "format"),
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"tz": ""}, "tz"),
        ({"tz": "../../etc/passwd"}, "tz"),
        ({"tz": "E" * 65}, "tz"),
    ],
)
def test_bad_input_is_422_naming_the_field(api_as, personas, query, field):
    response = api_as(personas.admin).get(URL, data=query)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_the_csv_download(api_as, service_desk, personas):
    Team.objects.filter(pk=personas.team_desk.pk).update(name='=HYPERLINK("http://x.example")')
    response = api_as(personas.admin).get(URL, data={**QUERY, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="service-desk-20260302-20260304.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["figure", "team_id", "team", "priority", "day", "measure", "value"]
    assert all(len(row) == 7 for row in rows)
    assert rows[1:4] == [
        ["period", "", "", "", "", "start", "2026-03-02T00:00:00+00:00"],
        ["period", "", "", "", "", "end", "2026-03-05T00:00:00+00:00"],
        ["period", "", "", "", "", "time_zone", "UTC"],
    ]
    desk_id = str(personas.team_desk.pk)
    assert ["backlog", desk_id, '\'=HYPERLINK("http://x.example")', "2", "", "count", "2"] in rows
    assert ["backlog", "", "", "3", "", "count", "1"] in rows
    assert ["opened_vs_resolved", "", "", "", "2026-03-02", "opened", "4"] in rows
    assert ["opened_vs_resolved", "", "", "", "2026-03-04", "resolved", "1"] in rows
    values = {(r[0], r[5]): r[6] for r in rows if r[0] not in ("backlog", "opened_vs_resolved")}
    assert values[("mtta", "median_seconds")] == "2250.0"
    assert values[("mttr", "p90_seconds")] == "217800.0"
    assert values[("first_contact_resolution", "rate")] == "50.0"
    assert values[("sla_compliance", "rate")] == ""  # no clock finished: no rate
    assert values[("reassignment_rate", "reassigned")] == "1"
    assert values[("csat", "average")] == "3.67"
    assert [values[("csat", f"rating_{n}")] for n in range(1, 6)] == ["0", "1", "0", "1", "1"]
    assert len(rows) == 1 + 3 + 2 + 3 * 2 + 19 + 5  # SLA: met, breached, open, tickets, rate


def test_days_are_days_of_the_time_zone_asked_for(api_as, service_desk, personas):
    """The same instants in Tokyo (UTC+9): T9, logged at 20:00 UTC on 4 March, was logged on
    the 5th there; the period's end, midnight UTC, is 09:00 of the 5th, a fourth day."""
    client = api_as(personas.admin)
    body = client.get(URL, data={**QUERY, "tz": "Asia/Tokyo"}).json()
    assert body["time_zone"] == "Asia/Tokyo"
    assert body["period"] == {"start": "2026-03-02T00:00:00Z", "end": "2026-03-05T00:00:00Z"}
    assert [(d["day"], d["opened"]) for d in body["opened_vs_resolved"]] == [
        ("2026-03-02", 4),
        ("2026-03-03", 2),
        ("2026-03-04", 1),
        ("2026-03-05", 1),
    ]
    csv_download = client.get(URL, data={**QUERY, "tz": "Asia/Tokyo", "format": "csv"})
    assert csv_download["Content-Disposition"] == (
        'attachment; filename="service-desk-20260302-20260305.csv"'
    )
    assert "period,,,,,time_zone,Asia/Tokyo" in csv_download.content.decode()
    # Without a period: the last 30 days of Tokyo, from its midnight.
    with time_machine.travel(at(3, 5, 12, 0), tick=False):
        default = client.get(URL, data={"tz": "Asia/Tokyo"}).json()
    assert default["period"] == {"start": "2026-02-03T15:00:00Z", "end": "2026-03-05T12:00:00Z"}
    assert len(default["opened_vs_resolved"]) == 30


def test_query_count_of_a_request_is_fixed(api_as, service_desk, personas, desk):
    client = api_as(personas.lead_desk)
    client.get(URL, data=QUERY)  # the token's first use records when it was used

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL, data=QUERY).status_code == 200
        return len(ctx)

    few = queries()
    for hour in range(8, 18):
        ticket = desk.create(at(3, 3, hour, 0), team=personas.team_desk)
        desk.reply(at(3, 3, hour, 5), ticket)
        desk.resolve(at(3, 3, hour, 30), ticket)
    assert queries() == few


def test_the_openapi_document_declares_json_csv_and_problems():
    operation = api.get_openapi_schema()["paths"]["/api/v1/reports/service-desk"]["get"]
    assert operation["tags"] == ["reporting"]
    responses = {str(status): response for status, response in operation["responses"].items()}
    ok = responses["200"]["content"]
    assert set(ok) == {"application/json", "text/csv"}
    assert ok["text/csv"]["schema"] == {"type": "string"}
    assert {"401", "403", "404", "422"} <= set(responses)
    assert set(responses["404"]["content"]) == {"application/problem+json"}
    assert "team or organisation" in responses["404"]["description"]
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"start", "end", "team", "organization", "format", "tz"}


def test_the_spreadsheet_has_a_row_per_team_and_a_column_per_figure(api_as, service_desk, personas):
    Team.objects.filter(pk=personas.team_network.pk).update(name="=cmd|' /C calc'!A0")
    response = api_as(personas.admin).get(
        URL, data={**QUERY, "format": "sheet", "tz": "Europe/Berlin"}
    )

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="service-desk-by-team-20260302-20260305-Europe-Berlin.csv"'
    )
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheets read it as UTF-8
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert list(rows[0])[:5] == ["Team", "First day", "Last day", "Time zone", "Open backlog now"]
    assert "SLA clocks breached (still open)" in rows[0] and "MTTR median (hours)" in rows[0]
    teams = [row["Team"] for row in rows]
    assert teams[0] == "All teams" and "Service Desk" in teams
    assert "'=cmd|' /C calc'!A0" in teams  # a formula is shown as text
    everything = rows[0]
    assert everything["Time zone"] == "Europe/Berlin"
    assert everything["First day"] == "2026-03-02" and everything["Last day"] == "2026-03-05"
    json_ = api_as(personas.admin).get(URL, data={**QUERY, "tz": "Europe/Berlin"}).json()
    assert int(everything["Resolved and still resolved (MTTR tickets)"]) == json_["mttr"]["count"]
    assert float(everything["MTTR median (hours)"]) == round(
        json_["mttr"]["median_seconds"] / 3600, 2
    )
    assert everything["SLA compliance (%)"] == ""  # nothing to measure: an empty cell
    desk = next(row for row in rows if row["Team"] == "Service Desk")
    assert int(desk["Open backlog now"]) == 2


def test_the_spreadsheet_of_a_lead_holds_only_what_they_see(api_as, service_desk, personas):
    response = api_as(personas.lead_desk).get(URL, data={**QUERY, "format": "sheet"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8").lstrip("\ufeff"))))
    lead = api_as(personas.lead_desk).get(URL, data=QUERY).json()
    assert int(rows[0]["CSAT responses"]) == lead["csat"]["responses"] == 2  # not Globex's


def test_figures_per_agent(api_as, service_desk, personas):
    response = api_as(personas.lead_desk).get(f"{URL}/agents", data=QUERY)
    assert response.status_code == 200, response.content
    rows = {row["agent_id"]: row for row in response.json()["agents"]}
    assert rows[personas.agent_desk.pk]["handled"] == 4
    assert rows[personas.agent_desk.pk]["reopen_rate"] == 25.0
    assert rows[personas.agent_network.pk]["handled"] == 1  # T3; T7 is Globex's


def test_figures_per_agent_are_for_leads_and_administrators_only(api_as, personas):
    for who in (personas.agent_desk, personas.change_manager, personas.requester_acme):
        response = api_as(who).get(f"{URL}/agents")
        assert response.status_code == 403, who
        assert "team leads and administrators" in response.json()["detail"]
    hidden = api_as(personas.lead_desk).get(f"{URL}/agents", data={"team": 999999})
    assert hidden.status_code == 404
