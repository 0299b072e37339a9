"""Cursors are signed per list and read back strictly: on every list endpoint of the OpenAPI
document (so a new one is covered without editing this file), a cursor we did not issue for
that list answers 422 naming `cursor`, never a 500."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import uuid

import pytest
from django.db import connection, models

from servio.accounts.services import token_create
from servio.api.cursors import InvalidCursor, column_value, cursor_scope, encode_cursor
from servio.api.instance import api
from servio.tickets import services
from servio.tickets.models import Ticket
from tests.api.helpers import assert_problem, error_fields
from tests.ui import make_ticket

pytestmark = pytest.mark.django_db


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# What a client (or an attacker) may put in `cursor`, none of which we issued.
MALFORMED = [
    "W251bGwsIG51bGxd",  # [null, null]: the cursor of the report
    _b64("[null]"),
    _b64("[null,null,null]"),
    _b64("[]"),
    _b64('["x","x","x"]'),
    _b64("[{},{}]"),
    _b64("[[1],[2]]"),
    _b64("[NaN,NaN]"),
    _b64("[1e400,1e400]"),
    _b64(f"[{2**70},{2**70}]"),
    _b64('{"a":1}'),
    _b64("not json"),
    "garbage!",
    "%%%",
    "_w",  # base64 of a byte that is not UTF-8
    "W251bGwsIG51bGxd:" + "A" * 43,  # the shape of a signed cursor, a made-up signature
    "a" * 5000,
    "\u00e9\u00e9",
]


def list_operations() -> list[str]:
    """Paths of the GET operations of the API that take a `cursor`."""
    document = api.get_openapi_schema()
    return sorted(
        path
        for path, operations in document["paths"].items()
        if any(p["name"] == "cursor" for p in operations.get("get", {}).get("parameters", []))
    )


LISTS = list_operations()


@pytest.fixture
def lists(personas):
    """The lists filled (two or more rows each where we can) and their path parameters."""
    tickets = [make_ticket(personas, title=f"Printer {n}") for n in range(3)]
    for n in range(3):
        services.comment_add(actor=personas.agent_desk, ticket=tickets[0], body=f"Reply {n}")
    token_create(actor=personas.admin, name="second")
    return {"reference": tickets[0].reference}


def url_of(path: str, values: dict) -> str:
    try:
        return path.format(**values)
    except KeyError as exc:  # a new list with a new path parameter: give the fixture a value
        raise AssertionError(f"{path}: add a value for {exc} to the `lists` fixture") from exc


def test_the_document_lists_the_paginated_endpoints():
    assert "/api/v1/tickets" in LISTS and "/api/v1/organizations" in LISTS
    assert len(LISTS) >= 14


@pytest.mark.parametrize("path", LISTS)
def test_every_list_answers_422_to_a_cursor_it_did_not_issue(personas, api_as, lists, path):
    client = api_as(personas.admin)
    url = url_of(path, lists)
    assert client.get(url).status_code == 200
    for cursor in MALFORMED:
        response = client.get(url, data={"cursor": cursor})
        body = assert_problem(response, 422)
        assert error_fields(body) == {"cursor"}, (cursor, body)


def _cursors(client, values) -> dict[str, str]:
    """A real next_cursor of every list that has a second page."""
    found = {}
    for path in LISTS:
        page = client.get(url_of(path, values), data={"limit": 1}).json()
        if page["next_cursor"]:
            found[path] = page["next_cursor"]
    return found


def test_a_cursor_of_another_list_is_refused(personas, api_as, lists):
    client = api_as(personas.admin)
    issued = _cursors(client, lists)
    # Enough different lists to mean something: tokens, organizations, users, teams, audit
    # events, tickets, comments and history all have a second page here.
    assert len(issued) >= 8, sorted(issued)
    for source, cursor in issued.items():
        for target in LISTS:
            response = client.get(url_of(target, lists), data={"cursor": cursor, "limit": 1})
            if target == source:
                assert response.status_code == 200, (source, response.content)
            else:
                body = assert_problem(response, 422)
                assert error_fields(body) == {"cursor"}, (source, target)


def test_a_cursor_of_another_sort_is_refused(personas, api_as, lists):
    client = api_as(personas.admin)
    cursor = client.get("tickets", data={"sort": "priority", "limit": 1}).json()["next_cursor"]
    assert client.get("tickets", data={"sort": "priority", "cursor": cursor}).status_code == 200
    for sort in ("-priority", "created", "-created", "number", "breaching"):
        response = client.get("tickets", data={"sort": sort, "cursor": cursor})
        assert error_fields(assert_problem(response, 422)) == {"cursor"}, sort


def test_a_tampered_cursor_is_refused(personas, api_as, lists):
    client = api_as(personas.admin)
    cursor = client.get("organizations", data={"limit": 1}).json()["next_cursor"]
    payload, signature = cursor.split(":")
    forged = [
        f"{_b64('[null,null]')}:{signature}",  # other values under the genuine signature
        f"{_b64(json.dumps(['Acme', 1]))}:{signature}",
        f"{payload}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        payload,
        f"{payload}:",
        f"{payload}:{signature}:{signature}",
    ]
    for value in forged:
        response = client.get("organizations", data={"cursor": value})
        assert error_fields(assert_problem(response, 422)) == {"cursor"}, value


# --- each sort column takes only what it holds ---------------------------------------------

FIELD_CASES = [
    # (field, accepted JSON value, what it reads as, refused JSON values)
    (
        models.DateTimeField(),
        "2024-05-01T10:00:00+02:00",
        dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC),
        [None, "2024-05-01T10:00:00", "yesterday", 5, 1.5, [], {}, "9999-12-31T23:59:59-14:00"],
    ),
    (models.DateField(), "2024-05-01", dt.date(2024, 5, 1), [None, "2024-13-01", 20240501]),
    (models.BigAutoField(primary_key=True), 7, 7, [None, "7", 7.0, True, 2**63, -(2**63) - 1]),
    (models.IntegerField(), -3, -3, [None, "x", float("nan"), [1]]),
    (models.CharField(max_length=10), "Acme", "Acme", [None, 5, ["Acme"], "a\x00b", "\ud800"]),
    (models.BooleanField(), True, True, [None, 1, "true"]),
    (
        models.DecimalField(max_digits=5, decimal_places=2),
        "1.50",
        decimal.Decimal("1.50"),
        [None, "NaN", "Infinity", "x", 1.5, True],
    ),
    (models.FloatField(), 2.5, 2.5, [None, "2.5", float("nan"), float("inf")]),
    (
        models.UUIDField(),
        "12345678-1234-5678-1234-567812345678",
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        [None, "not-a-uuid", 5],
    ),
    (models.JSONField(), None, None, [{"a": 1}, "x"]),  # we never sort by JSON: refused
]


@pytest.mark.parametrize(("field", "good", "read", "bad"), FIELD_CASES)
def test_cursor_values_are_read_as_their_column_holds_them(field, good, read, bad):
    if good is not None:
        assert column_value(field, good) == read
    for value in bad:
        with pytest.raises(InvalidCursor):
            column_value(field, value)


def test_integers_are_bounded_by_the_database_column():
    low, high = connection.ops.integer_field_range("IntegerField")
    assert column_value(models.IntegerField(), high) == high
    with pytest.raises(InvalidCursor):
        column_value(models.IntegerField(), high + 1)
    with pytest.raises(InvalidCursor):
        column_value(models.IntegerField(), low - 1)


def test_a_foreign_key_sort_reads_the_key_it_points_to():
    field = Ticket._meta.get_field("assignee")
    assert column_value(field, 12) == 12
    with pytest.raises(InvalidCursor):
        column_value(field, "12")


def test_a_cursor_is_bound_to_its_model_and_order(personas, api_as, lists):
    values = ["Acme", personas.acme.pk]
    client = api_as(personas.admin)
    good = encode_cursor(values, scope=cursor_scope(personas.acme.__class__, ["name", "id"]))
    assert client.get("organizations", data={"cursor": good}).status_code == 200
    for scope in (
        cursor_scope(personas.acme.__class__, ["-name", "-id"]),
        cursor_scope(Ticket, ["name", "id"]),
    ):
        response = client.get("organizations", data={"cursor": encode_cursor(values, scope=scope)})
        assert error_fields(assert_problem(response, 422)) == {"cursor"}
