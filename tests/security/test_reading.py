"""Administrators read and filter the security log in the API and the admin; nobody else can,
and nobody can change it. Old rows are pruned."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from servio.security.models import SecurityEvent
from servio.security.tasks import security_log_prune
from tests.api.helpers import assert_problem, error_fields

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def logged(personas) -> list[SecurityEvent]:
    """Six events over six hours: two kinds, two people, two addresses."""
    rows = []
    for n in range(6):
        user = personas.requester_globex if n % 2 else None
        rows.append(
            SecurityEvent.objects.create(
                at=T0 + dt.timedelta(hours=n),
                kind=Kind.NOT_FOUND_HIDDEN if n % 2 else Kind.SIGN_IN_FAILED,
                user=user,
                user_repr=user.email if user else "",
                client_ip="192.0.2.7" if n < 3 else "2001:db8::1",
                method="GET",
                path=f"/api/v1/tickets/INC-00000{n}",
                status=404,
            )
        )
    return rows


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


def test_admins_read_the_log_newest_first_page_by_page(personas, api_as, logged):
    api = api_as(personas.admin)
    first = api.get("security-events?limit=4")
    assert first.status_code == 200
    assert ids(first) == [e.pk for e in reversed(logged)][:4]
    cursor = first.json()["next_cursor"]
    second = api.get(f"security-events?limit=4&cursor={cursor}")
    assert ids(second) == [logged[1].pk, logged[0].pk]
    assert second.json()["next_cursor"] is None
    item = first.json()["items"][0]
    assert item["kind"] == "not_found_hidden" and item["user_repr"] == "gina@globex.example"
    assert item["client_ip"] == "2001:db8::1" and item["status"] == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=sign_in_failed", [4, 2, 0]),
        ("user={globex}", [5, 3, 1]),
        ("client_ip=192.0.2.7", [2, 1, 0]),
        ("client_ip=2001:0db8:0:0:0:0:0:1", [5, 4, 3]),
        ("since=2026-03-01T14:00:00Z&until=2026-03-01T16:00:00Z", [3, 2]),
        ("since=2026-03-01T15:00:00%2B01:00", [5, 4, 3, 2]),
        ("kind=not_found_hidden&since=2026-03-01T13:00:00Z&until=2026-03-01T15:00:00Z", [1]),
    ],
)
def test_filters(personas, api_as, logged, query, expected):
    response = api_as(personas.admin).get(
        "security-events?" + query.format(globex=personas.requester_globex.pk)
    )
    assert response.status_code == 200, response.content
    assert ids(response) == [logged[n].pk for n in expected]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=deleted", "kind"),
        ("user=0", "user"),
        ("client_ip=rita", "client_ip"),
        ("since=yesterday", "since"),
    ],
)
def test_bad_filters_are_422_naming_the_field(personas, api_as, query, field):
    body = assert_problem(api_as(personas.admin).get(f"security-events?{query}"), 422)
    assert error_fields(body) == {field}


@pytest.mark.parametrize("persona", ["requester_acme", "agent_desk", "lead_desk"])
def test_only_admins_read_the_log(personas, api_as, logged, persona):
    response = api_as(getattr(personas, persona)).get("security-events")
    assert assert_problem(response, 403)["detail"] == (
        "Only administrators may read the security log."
    )
    # ... and the refusal is itself in the log.
    assert SecurityEvent.objects.filter(
        kind=Kind.FORBIDDEN, user=getattr(personas, persona), path="/api/v1/security-events"
    ).exists()


def test_list_query_count_does_not_grow_with_the_page(personas, api_as, logged):
    api = api_as(personas.admin)
    api.get("security-events?limit=1")
    counts = []
    for limit in (1, 6):
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"security-events?limit={limit}").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- the admin --------------------------------------------------------------------------------


@pytest.fixture
def admin_client(personas) -> Client:
    client = Client()
    client.force_login(personas.admin)
    return client


def test_admin_lists_filters_and_searches(admin_client, logged):
    base = "/admin/security/securityevent/"
    page = admin_client.get(f"{base}?kind__exact=sign_in_failed")
    assert page.status_code == 200
    assert [e.pk for e in page.context["cl"].result_list] == [logged[n].pk for n in (4, 2, 0)]
    page = admin_client.get(f"{base}?q=2001:db8::1")
    assert [e.pk for e in page.context["cl"].result_list] == [logged[n].pk for n in (5, 4, 3)]
    page = admin_client.get(f"{base}?q=gina")
    assert [e.pk for e in page.context["cl"].result_list] == [logged[n].pk for n in (5, 3, 1)]


def test_admin_cannot_add_change_or_delete(admin_client, logged):
    base = "/admin/security/securityevent/"
    event = logged[0]
    assert admin_client.get(f"{base}{event.pk}/change/").status_code == 200  # read only
    assert admin_client.get(f"{base}add/").status_code == 403
    assert admin_client.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(f"{base}{event.pk}/change/", {"kind": "forbidden"}).status_code == 403
    event.refresh_from_db()
    assert event.kind == Kind.SIGN_IN_FAILED


def test_non_admins_cannot_open_it_in_the_admin(personas):
    client = Client()
    client.force_login(personas.agent_desk)
    assert client.get("/admin/security/securityevent/").status_code == 302


# --- retention --------------------------------------------------------------------------------


def test_rows_older_than_the_retention_are_pruned(settings, logged):
    settings.SERVIO_SECURITY_LOG_DAYS = 30
    recent = SecurityEvent.objects.create(kind=Kind.FORBIDDEN, at=timezone.now())
    assert security_log_prune() == len(logged)
    assert list(SecurityEvent.objects.all()) == [recent]
