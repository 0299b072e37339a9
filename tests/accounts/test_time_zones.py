"""Whose time zone applies (decision 37): the resolver's order, refusals of unknown names in
the API and the settings page, pages in the reader's zone, the API in UTC, the data migration."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.test import Client

from servio.accounts import services
from servio.accounts.models import User
from servio.accounts.timezones import clean_zone_name, effective_zone, effective_zone_name
from servio.audit.models import AuditEvent
from servio.core.errors import ValidationFailed
from servio.tickets.models import Ticket
from tests.ui import login, make_ticket, told, ui_settings  # noqa: F401

pytestmark = pytest.mark.django_db

NOON_UTC = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)  # winter: Berlin is UTC+1


@pytest.fixture(autouse=True)
def _ui(ui_settings):  # noqa: F811
    return ui_settings


# --- the resolver -----------------------------------------------------------------------------


def test_the_person_then_the_organisation_then_the_installation(personas, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    rita = personas.requester_acme
    assert effective_zone_name(rita) == "Asia/Kolkata"  # nobody chose: the installation's
    services.organization_set_time_zone(
        actor=personas.admin, organization=personas.acme, time_zone="America/New_York"
    )
    rita = User.objects.select_related("organization").get(pk=rita.pk)
    assert effective_zone_name(rita) == "America/New_York"  # the organisation's
    services.user_update(actor=rita, user=rita, time_zone="Europe/Berlin")
    assert effective_zone_name(rita) == "Europe/Berlin"  # their own
    assert effective_zone(rita).key == "Europe/Berlin"
    services.user_update(actor=rita, user=rita, time_zone="")
    assert effective_zone_name(rita) == "America/New_York"  # empty again: follows


def test_people_without_organisation_and_visitors_get_the_installation_zone(settings):
    from django.contrib.auth.models import AnonymousUser

    settings.TIME_ZONE = "Europe/Berlin"
    loner = User.objects.create_user("loner@example.com", "x")
    assert effective_zone_name(loner) == "Europe/Berlin"
    assert effective_zone_name(AnonymousUser()) == "Europe/Berlin"
    assert effective_zone_name(None) == "Europe/Berlin"


def test_a_stored_name_the_database_no_longer_knows_falls_through(personas):
    rita = personas.requester_acme
    User.objects.filter(pk=rita.pk).update(time_zone="Mars/Olympus_Mons")
    rita.refresh_from_db()
    assert effective_zone_name(rita) == "UTC"


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "europe/berlin", "CET+1", "../etc/passwd", "localtime"]
)
def test_unknown_names_are_refused_naming_the_field(name):
    with pytest.raises(ValidationFailed) as caught:
        clean_zone_name(name)
    assert list(caught.value.errors) == ["time_zone"]
    assert "Europe/Berlin" in caught.value.errors["time_zone"][0]  # says what to do


def test_changes_are_audited(personas):
    services.organization_set_time_zone(
        actor=personas.admin, organization=personas.acme, time_zone="Europe/Berlin"
    )
    entry = AuditEvent.objects.filter(action="organization.updated").latest("id")
    assert entry.changes == {"time_zone": ["", "Europe/Berlin"]}
    rita = personas.requester_acme
    services.user_update(actor=rita, user=rita, time_zone="Asia/Kolkata")
    entry = AuditEvent.objects.filter(action="user.updated").latest("id")
    assert entry.changes == {"time_zone": ["", "Asia/Kolkata"]}


# --- the API ----------------------------------------------------------------------------------


def test_anyone_sets_their_own_zone_through_the_api(personas, api_as):
    api = api_as(personas.requester_acme)
    response = api.patch("me", json={"time_zone": "America/New_York"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["time_zone"] == body["effective_time_zone"] == "America/New_York"
    assert api.get("me").json()["effective_time_zone"] == "America/New_York"


@pytest.mark.parametrize(
    "path", ["me", "users/{user}", "organizations/{org}"], ids=["me", "user", "organisation"]
)
def test_an_unknown_zone_is_422_naming_time_zone(personas, api_as, path):
    api = api_as(personas.admin)
    url = path.format(user=personas.requester_acme.pk, org=personas.acme.pk)
    response = api.patch(url, json={"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 422
    problem = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    assert "time_zone" in str(problem["errors"])
    personas.acme.refresh_from_db()
    assert personas.acme.time_zone == ""


def test_unknown_fields_are_refused(personas, api_as):
    response = api_as(personas.requester_acme).patch(
        "me", json={"time_zone": "UTC", "role": "admin"}
    )
    assert response.status_code == 422
    assert User.objects.get(pk=personas.requester_acme.pk).role == "requester"


def test_admins_set_people_and_organisations(personas, api_as):
    api = api_as(personas.admin)
    org = api.patch(f"organizations/{personas.acme.pk}", json={"time_zone": "Europe/Berlin"})
    assert org.status_code == 200 and org.json()["time_zone"] == "Europe/Berlin"
    rita = api.get(f"users/{personas.requester_acme.pk}").json()
    assert rita["time_zone"] == "" and rita["effective_time_zone"] == "Europe/Berlin"
    user = api.patch(f"users/{personas.requester_acme.pk}", json={"time_zone": "Asia/Kolkata"})
    assert user.status_code == 200 and user.json()["effective_time_zone"] == "Asia/Kolkata"


def test_others_may_not_set_zones(personas, api_as):
    agent = api_as(personas.agent_desk)
    assert (
        agent.patch(f"organizations/{personas.acme.pk}", json={"time_zone": "UTC"}).status_code
        == 403
    )
    assert (
        agent.patch(f"users/{personas.requester_acme.pk}", json={"time_zone": "UTC"}).status_code
        == 403
    )
    rita = api_as(personas.requester_acme)
    # Another organisation's person and organisation do not exist for her.
    assert (
        rita.patch(f"users/{personas.requester_globex.pk}", json={"time_zone": "UTC"}).status_code
        == 404
    )
    assert (
        rita.patch(f"organizations/{personas.globex.pk}", json={"time_zone": "UTC"}).status_code
        == 404
    )
    assert User.objects.get(pk=personas.requester_acme.pk).time_zone == ""


def test_the_api_answers_in_utc_whatever_the_callers_zone(personas, api_as):
    rita = personas.requester_acme
    services.user_update(actor=rita, user=rita, time_zone="Asia/Kolkata")
    ticket = make_ticket(personas)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=NOON_UTC)
    body = api_as(rita).get(f"tickets/{ticket.reference}").json()
    assert dt.datetime.fromisoformat(body["created_at"]) == NOON_UTC
    assert body["created_at"].endswith(("Z", "+00:00"))


# --- pages ------------------------------------------------------------------------------------


def _at_noon(personas):
    ticket = make_ticket(personas)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=NOON_UTC, updated_at=NOON_UTC)
    return ticket


def test_the_desk_shows_times_in_the_agents_zone(personas):
    ticket = _at_noon(personas)
    dana = personas.agent_desk
    client = login(Client(), dana)
    page = client.get(f"/desk/t/{ticket.reference}/").content.decode()
    assert "2026-01-15 12:00" in page  # nobody chose: the installation's zone, UTC
    services.user_update(actor=dana, user=dana, time_zone="Europe/Berlin")
    page = client.get(f"/desk/t/{ticket.reference}/").content.decode()
    assert "2026-01-15 13:00" in page and "2026-01-15 12:00" not in page
    queue = client.get("/desk/?queue=all").content.decode()
    assert "2026-01-15 13:00 CET" in queue  # the queue's last update, with the zone named


def test_the_portal_shows_times_in_the_requesters_organisation_zone(personas):
    ticket = _at_noon(personas)
    services.organization_set_time_zone(
        actor=personas.admin, organization=personas.acme, time_zone="America/New_York"
    )
    client = login(Client(), personas.requester_acme)
    page = client.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert "2026-01-15 07:00" in page and "2026-01-15 12:00" not in page


def test_the_settings_page_saves_a_zone_and_shows_an_error_beside_the_field(personas):
    rita = personas.requester_acme
    client = login(Client(), rita)
    page = client.get("/settings/").content.decode()
    assert 'list="time-zone-names"' in page and '<option value="Europe/Berlin">' in page
    response = client.post("/settings/time-zone/", {"time_zone": "Mars/Olympus_Mons"})
    assert told(response) == 422
    page = response.content.decode()
    assert 'id="id_time_zone-errors"' in page and "is not a time zone name" in page
    assert 'value="Mars/Olympus_Mons"' in page  # keeps what was typed
    assert User.objects.get(pk=rita.pk).time_zone == ""
    response = client.post("/settings/time-zone/", {"time_zone": "Asia/Kolkata"})
    assert response.status_code == 302
    assert User.objects.get(pk=rita.pk).time_zone == "Asia/Kolkata"
    assert "Asia/Kolkata" in client.get("/settings/").content.decode()


# --- the admin --------------------------------------------------------------------------------


def _organization_form(org, time_zone: str) -> dict:
    return {
        "name": org.name,
        "slug": org.slug,
        "kind": org.kind,
        "email_domains": "[]",
        "is_active": "on",
        "time_zone": time_zone,
    }


def test_the_admin_refuses_an_unknown_zone_beside_the_field(personas):
    client = login(Client(), personas.admin)
    url = f"/admin/accounts/organization/{personas.acme.pk}/change/"
    response = client.post(url, _organization_form(personas.acme, "Mars/Olympus_Mons"))
    assert response.status_code == 200  # the form again
    assert "is not a time zone name" in str(response.context["adminform"].form.errors["time_zone"])
    response = client.post(url, _organization_form(personas.acme, "Europe/Berlin"))
    assert response.status_code == 302
    personas.acme.refresh_from_db()
    assert personas.acme.time_zone == "Europe/Berlin"
    event = AuditEvent.objects.order_by("-pk").first()
    assert event.changes["time_zone"] == ["", "Europe/Berlin"]


# --- the data migration -----------------------------------------------------------------------


def test_the_migration_forgets_the_old_default_and_keeps_chosen_zones(personas):
    migration = importlib.import_module("servio.accounts.migrations.0002_time_zones")
    User.objects.filter(pk=personas.requester_acme.pk).update(time_zone="UTC")
    User.objects.filter(pk=personas.agent_desk.pk).update(time_zone="Europe/Berlin")
    User.objects.filter(pk=personas.admin.pk).update(time_zone="Not/A_Zone")
    migration.forget_the_old_default(apps, None)
    zones = dict(User.objects.values_list("email", "time_zone"))
    assert zones["rita@acme.example"] == ""
    assert zones["dana@provider.example"] == "Europe/Berlin"
    assert zones["admin@provider.example"] == ""
    migration.keep_blank_as_utc(apps, None)
    assert User.objects.get(pk=personas.requester_acme.pk).time_zone == "UTC"
