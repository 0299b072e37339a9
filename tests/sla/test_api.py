"""SLA API: a ticket's clocks, the compliance report (JSON and CSV), calendars and policies."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servio.accounts.models import Organization
from servio.audit.models import AuditEvent
from servio.sla.models import Calendar
from servio.tickets.models import Service
from tests.sla.conftest import WEEKDAYS, at

pytestmark = pytest.mark.django_db


# --- a ticket's clocks ------------------------------------------------------------------------


def test_ticket_clocks_for_staff_and_for_the_requester(api_as, desk, make_policy, personas):
    make_policy("Standard")
    make_policy("Desk OLA", type="ola", team=personas.team_desk)
    ticket = desk.create(at(2026, 11, 23, 9, 0), team=personas.team_desk)
    desk.reply(at(2026, 11, 23, 9, 30), ticket)

    staff = api_as(personas.agent_desk).get(f"tickets/{ticket.reference}/sla")
    assert staff.status_code == 200
    rows = staff.json()
    assert {(r["policy_type"], r["metric"]) for r in rows} == {
        ("sla", "first_response"),
        ("sla", "resolution"),
        ("ola", "first_response"),
        ("ola", "resolution"),
    }
    first = next(r for r in rows if r["policy_type"] == "sla" and r["metric"] == "first_response")
    assert first["state"] == "met" and first["elapsed_seconds"] == 1800
    assert first["target_seconds"] == 7200 and first["remaining_seconds"] == 5400
    assert first["percent_used"] == 25.0 and first["calendar"] == "Berlin office"
    assert first["policy"] == "Standard" and first["paused"] is False
    resolution = next(r for r in rows if r["policy_type"] == "sla" and r["metric"] == "resolution")
    assert resolution["state"] in ("running", "breached") and resolution["due_at"]

    own = api_as(personas.requester_acme).get(f"tickets/{ticket.reference}/sla")
    assert own.status_code == 200
    assert {r["policy_type"] for r in own.json()} == {"sla"}  # OLAs are internal


def test_ticket_clocks_of_another_organisation_answer_404(api_as, desk, standard, personas):
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    response = api_as(personas.requester_globex).get(f"tickets/{ticket.reference}/sla")
    assert response.status_code == 404
    assert api_as(personas.requester_globex).get("tickets/INC-999999/sla").status_code == 404


def test_ticket_clocks_query_count_does_not_grow_with_clocks(api_as, desk, make_policy, personas):
    make_policy("Standard", restart_on_reopen=True)
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    client = api_as(personas.agent_desk)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"tickets/{ticket.reference}/sla").status_code == 200
        return len(ctx)

    queries()  # the first call of a token also records when it was last used
    few = queries()
    for day in (24, 25, 26):
        ticket = desk.resolve(at(2026, 11, day, 10, 0), ticket)
        ticket = desk.reopen(at(2026, 11, day, 11, 0), ticket)
    assert len(client.get(f"tickets/{ticket.reference}/sla").json()) == 5
    assert queries() == few


# --- the compliance report --------------------------------------------------------------------


@pytest.fixture
def finished(desk, standard, personas):
    """Three tickets with known outcomes (first response; resolution):

    T1 Acme, Mail, desk, P3: met; met (Monday 23 Nov)
    T2 Globex, VPN, network, P2: breached; breached (resolved Wednesday 2 Dec)
    T3 Acme, VPN, desk, P2: met; breached (resolved Thursday 3 Dec)
    plus a cancelled and an open ticket, which the report leaves out.
    """
    mail = Service.objects.create(name="Mail")
    vpn = Service.objects.create(name="VPN")
    t1 = desk.create(at(2026, 11, 23, 9, 0), service=mail, team=personas.team_desk, priority=3)
    desk.reply(at(2026, 11, 23, 9, 30), t1)
    desk.resolve(at(2026, 11, 23, 10, 0), t1)
    t2 = desk.create(
        at(2026, 11, 23, 9, 0),
        requester=personas.requester_globex,
        service=vpn,
        team=personas.team_network,
        priority=2,
    )
    desk.reply(at(2026, 11, 23, 12, 0), t2)
    desk.resolve(at(2026, 12, 2, 9, 0), t2)
    t3 = desk.create(at(2026, 11, 24, 9, 0), service=vpn, team=personas.team_desk, priority=2)
    desk.reply(at(2026, 11, 24, 10, 0), t3)
    desk.resolve(at(2026, 12, 3, 10, 0), t3)
    cancelled = desk.create(at(2026, 11, 23, 9, 0), service=mail)
    desk.cancel(at(2026, 11, 23, 9, 5), cancelled)
    desk.create(at(2026, 11, 25, 9, 0), service=mail)
    return {"mail": mail, "vpn": vpn}


def report(client, group_by, **params):
    response = client.get("sla/compliance", data={"group_by": group_by, **params})
    assert response.status_code == 200, response.content
    return {row["label"]: (row["met"], row["breached"], row["total"]) for row in response.json()}


def test_compliance_by_each_group(api_as, finished, personas):
    client = api_as(personas.admin)
    assert report(client, "policy") == {"Standard": (3, 3, 6)}
    assert report(client, "organization") == {"Acme": (3, 1, 4), "Globex": (0, 2, 2)}
    assert report(client, "service") == {"Mail": (2, 0, 2), "VPN": (1, 3, 4)}
    assert report(client, "team") == {"Service Desk": (3, 1, 4), "Network": (0, 2, 2)}
    assert report(client, "priority") == {"3": (2, 0, 2), "2": (1, 3, 4)}
    assert report(client, "metric") == {"first_response": (2, 1, 3), "resolution": (1, 2, 3)}
    assert report(client, "week") == {"2026-11-23": (3, 1, 4), "2026-11-30": (0, 2, 2)}
    assert report(client, "month") == {"2026-11-01": (3, 1, 4), "2026-12-01": (0, 2, 2)}
    rows = client.get("sla/compliance", data={"group_by": "organization"}).json()
    assert {r["label"]: r["compliance"] for r in rows} == {"Acme": 75.0, "Globex": 0.0}


def test_compliance_period_and_type_filters(api_as, finished, personas):
    client = api_as(personas.admin)
    december = {"start": "2026-12-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}
    assert report(client, "policy", **december) == {"Standard": (0, 2, 2)}
    assert report(client, "policy", policy_type="ola") == {}
    bad = client.get(
        "sla/compliance", data={"start": "2026-12-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["end"]


def test_compliance_is_scoped_to_the_organisations_the_user_sees(api_as, finished, personas):
    p = personas
    # The desk serves Acme and the provider, not Globex; Network serves Globex.
    for person in (p.agent_desk, p.lead_desk):
        assert report(api_as(person), "organization") == {"Acme": (3, 1, 4)}
        assert report(api_as(person), "team") == {"Service Desk": (3, 1, 4)}
    for person in (p.agent_network, p.change_manager):
        assert report(api_as(person), "organization") == {"Globex": (0, 2, 2)}
        assert report(api_as(person), "policy") == {"Standard": (0, 2, 2)}
    # The CSV export holds the same rows as the figures.
    lead_csv = api_as(p.lead_desk).get(
        "sla/compliance", data={"group_by": "organization", "format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(lead_csv.content.decode())))
    assert [row[1] for row in rows[1:]] == ["Acme"]


def test_compliance_is_for_staff_only(api_as, finished, personas):
    response = api_as(personas.requester_acme).get("sla/compliance")
    assert response.status_code == 403


def test_compliance_unknown_group_by_names_the_field(api_as, personas):
    response = api_as(personas.admin).get("sla/compliance", data={"group_by": "colour"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["group_by"]


def test_compliance_csv_export(api_as, finished, personas):
    Organization.objects.filter(pk=personas.acme.pk).update(name="=HYPERLINK(evil)")
    Organization.objects.filter(pk=personas.globex.pk).update(name="@SUM(1+1)")
    response = api_as(personas.admin).get(
        "sla/compliance", data={"group_by": "organization", "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "organization",
        "label",
        "met",
        "breached",
        "total",
        "compliance_pct",
        "time_zone",
    ]
    assert {row[-1] for row in rows[1:]} == {"UTC"}  # the zone the periods are cut in
    body = {row[1]: row[2:5] for row in rows[1:]}
    assert body == {"'=HYPERLINK(evil)": ["3", "1", "4"], "'@SUM(1+1)": ["0", "2", "2"]}
    for row in rows[1:]:
        assert not any(cell[:1] in ("=", "+", "-", "@") for cell in row)


# --- calendars --------------------------------------------------------------------------------

GOOD = {"name": "Berlin", "time_zone": "Europe/Berlin", "hours": WEEKDAYS}


def error_fields(response) -> set[str]:
    assert response.status_code == 422, response.content
    return {e["field"] for e in response.json()["errors"]}


def test_create_and_update_a_calendar(api_as, personas):
    client = api_as(personas.admin)
    created = client.post("sla/calendars", json={**GOOD, "holiday_country": "DE"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["holiday_country"] == "DE" and body["hours"]["mon"] == [["09:00", "17:00"]]
    assert AuditEvent.objects.filter(action="sla.calendar_created").count() == 1
    updated = client.request(
        "PUT",
        f"sla/calendars/{body['id']}",
        json={**GOOD, "hours": {"mon": [["08:00", "12:00"]]}},
    )
    assert updated.status_code == 200
    assert Calendar.objects.get(pk=body["id"]).hours == {"mon": [["08:00", "12:00"]]}
    listed = client.get("sla/calendars").json()
    assert [c["name"] for c in listed] == ["Berlin"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hours": {}}, "hours"),
        ({"hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "hours"),
        ({"hours": {"fri": [["22:00", "06:00"]], "sat": [["05:00", "09:00"]]}}, "hours"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_country": "DE", "holiday_subdivision": "ZZ"}, "holiday_subdivision"),
        ({"twenty_four_seven": True, "holiday_country": "DE"}, "holiday_country"),
    ],
)
def test_bad_calendars_answer_422_naming_the_field(api_as, personas, change, field):
    response = api_as(personas.admin).post("sla/calendars", json={**GOOD, **change})
    assert error_fields(response) == {field}
    assert response["Content-Type"] == "application/problem+json"
    assert not Calendar.objects.exists()


def test_calendar_name_must_be_unique(api_as, personas):
    client = api_as(personas.admin)
    assert client.post("sla/calendars", json=GOOD).status_code == 201
    assert error_fields(client.post("sla/calendars", json=GOOD)) == {"name"}


def test_a_24x7_calendar(api_as, personas):
    response = api_as(personas.admin).post(
        "sla/calendars", json={"name": "Round the clock", "twenty_four_seven": True}
    )
    assert response.status_code == 201
    assert Calendar.objects.get().engine().is_twenty_four_seven


def test_only_admins_change_calendars(api_as, personas):
    for user in (personas.agent_desk, personas.lead_desk):
        assert api_as(user).post("sla/calendars", json=GOOD).status_code == 403
    assert api_as(personas.requester_acme).get("sla/calendars").status_code == 403
    assert not Calendar.objects.exists()


def test_changing_a_calendar_refused_with_a_problem_that_says_what_to_do(api_as, berlin, personas):
    """Staff see calendars, so changing one is 403 for them (404 when there is no such
    calendar); requesters may not read the configuration at all (403 either way)."""
    url = f"sla/calendars/{berlin.pk}"
    for user in (personas.agent_desk, personas.lead_desk, personas.change_manager):
        refused = api_as(user).request("PUT", url, json=GOOD)
        assert refused.status_code == 403
        assert refused["Content-Type"] == "application/problem+json"
        assert "ask an administrator" in refused.json()["detail"]
        missing = api_as(user).request("PUT", "sla/calendars/999999", json=GOOD)
        assert missing.status_code == 404
        assert missing["Content-Type"] == "application/problem+json"
    requester = api_as(personas.requester_acme)
    for path in (url, "sla/calendars/999999"):
        refused = requester.request("PUT", path, json=GOOD)
        assert refused.status_code == 403
        assert "service desk staff" in refused.json()["detail"]
    missing = api_as(personas.admin).request("PUT", "sla/calendars/999999", json=GOOD)
    assert missing.status_code == 404
    assert Calendar.objects.get().name == "Berlin office"
    assert not AuditEvent.objects.filter(action__startswith="sla.").exists()


# --- policies ---------------------------------------------------------------------------------


def test_policies_and_their_overlaps(api_as, make_policy, personas):
    make_policy("General", order=50)
    make_policy("Acme VIP", order=20, organizations=[personas.acme])
    client = api_as(personas.agent_desk)
    assert [p["name"] for p in client.get("sla/policies").json()] == ["Acme VIP", "General"]
    overlaps = client.get("sla/policies/overlaps").json()
    assert overlaps == [{"first": "Acme VIP", "second": "General", "applies": "Acme VIP"}]
    for path in ("sla/policies", "sla/policies/overlaps"):
        refused = api_as(personas.requester_acme).get(path)
        assert refused.status_code == 403
        assert refused["Content-Type"] == "application/problem+json"
