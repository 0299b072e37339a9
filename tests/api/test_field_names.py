"""Validation errors name the field as the client sent it, not our handler's parameter."""

import pytest

from servio.api.errors import field_name

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("body", "payload", "title"), "title"),
        (("body", "payload", "address", "city"), "address.city"),
        (("query", "limit"), "limit"),
        (("query", "filters", "team", 0), "team"),
        (("query", "page", "cursor"), "cursor"),
        (("path", "reference"), "reference"),
        (("body", "payload"), "body"),
    ],
)
def test_field_name(loc, expected):
    assert field_name(loc) == expected


def test_list_filter_error_names_the_query_parameter(personas, api_as):
    response = api_as(personas.agent_desk).get("tickets?team=abc")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["team"]


@pytest.mark.parametrize(
    "path",
    [
        "sla/compliance?end=1123-06-24T03:34:17.04%2B18:25",
        "tickets?created_after=2026-01-01T00:00:00%2B18:25",
        "surveys/responses?since=2026-01-01T00:00:00-17:30",
    ],
)
def test_unusual_utc_offsets_are_converted_not_a_server_error(personas, api_as, path):
    """ISO allows offsets up to 23:59 but PostgreSQL stores at most 15:59: convert to UTC."""
    response = api_as(personas.admin).get(path)
    assert response.status_code == 200, response.content


def test_a_date_outside_the_storable_range_is_a_422_naming_the_field(personas, api_as):
    response = api_as(personas.admin).get("tickets?created_after=0001-01-01T00:00:00%2B05:00")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["created_after"]
