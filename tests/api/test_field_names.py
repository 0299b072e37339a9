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
