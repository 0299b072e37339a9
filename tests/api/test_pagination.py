"""Cursor pagination: complete and stable walks, clear errors, bounded queries."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from servio.accounts.models import ApiToken, Organization, User
from servio.accounts.roles import Role
from servio.accounts.services import token_create
from servio.api.cursors import cursor_scope, encode_cursor
from servio.api.pagination import paginate
from servio.audit.services import audit_record
from servio.core.errors import ValidationFailed
from tests.api.helpers import assert_problem, error_fields
from tests.factories import OrganizationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def walk(api, path: str, limit: int, cursor: str | None = None) -> list[dict]:
    """Follow next_cursor to the end; fail on a loop."""
    items = []
    for _ in range(1000):
        query = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = api.get(path, data=query)
        assert response.status_code == 200, response.content
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ran out")


@pytest.mark.parametrize("order", [["role", "id"], ["-role", "-id"]])
def test_walk_is_complete_when_many_rows_share_the_first_key(personas, order):
    UserFactory.create_batch(17, role=Role.AGENT)
    UserFactory.create_batch(5, role=Role.REQUESTER)
    expected = list(User.objects.order_by(*order).values_list("pk", flat=True))
    seen, cursor = [], None
    while True:
        page = paginate(User.objects.all(), order=order, cursor=cursor, limit=4)
        seen += [u.pk for u in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected  # every row once, in order: no duplicates, no gaps


def test_token_list_walks_tokens_created_at_the_same_instant(personas, api_as):
    api = api_as(personas.agent_desk)
    for n in range(12):
        token_create(actor=personas.agent_desk, name=f"t{n}")
    ApiToken.objects.filter(user=personas.agent_desk).update(created_at=timezone.now())
    items = walk(api, "me/tokens", limit=5)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)) == 13
    assert set(ids) == set(
        ApiToken.objects.filter(user=personas.agent_desk).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("path", ["organizations", "users", "teams", "audit-events"])
def test_each_list_walks_every_row_once(personas, api_as, path):
    OrganizationFactory.create_batch(7)
    UserFactory.create_batch(7)
    TeamFactory.create_batch(7)
    for n in range(7):
        audit_record(actor=personas.admin, action="test.event", object_type="x", object_id=n)
    api = api_as(personas.admin)
    key = "id"
    everything = api.get(f"{path}?limit=200").json()["items"]
    walked = walk(api, path, limit=3)
    assert [item[key] for item in walked] == [item[key] for item in everything]
    assert len(walked) > 3


def test_rows_inserted_mid_walk_do_not_shift_pages(personas, api_as):
    api = api_as(personas.admin)
    first = api.get("organizations?limit=2").json()
    OrganizationFactory(name="AAA first alphabetically", slug="aaa")
    rest = walk(api, "organizations", limit=2, cursor=first["next_cursor"])
    names = [o["name"] for o in first["items"] + rest]
    assert names == sorted(names) and len(names) == len(set(names))


ORGANIZATIONS = cursor_scope(Organization, ["name", "id"])


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "%%%",
        "W251bGwsIG51bGxd",  # [null, null], unsigned
        # Signed for this very list, so only the check of each value against its column
        # stands between these and the database (a cursor of an older version of a sort).
        encode_cursor(["only-one-value"], scope=ORGANIZATIONS),
        encode_cursor([None, None], scope=ORGANIZATIONS),
        encode_cursor(["Acme", "not-a-number"], scope=ORGANIZATIONS),
        encode_cursor(["Acme", 10**40], scope=ORGANIZATIONS),
        encode_cursor(["Acme", 1.5], scope=ORGANIZATIONS),
        encode_cursor(["Acme", True], scope=ORGANIZATIONS),
        encode_cursor([{"a": 1}, 1], scope=ORGANIZATIONS),
        encode_cursor(["nul\x00inside", 1], scope=ORGANIZATIONS),
        base64.urlsafe_b64encode(json.dumps({"a": 1}).encode()).decode(),
    ],
)
def test_bad_cursor_is_422_naming_cursor(personas, api_as, cursor):
    response = api_as(personas.admin).get("organizations", data={"cursor": cursor})
    assert error_fields(assert_problem(response, 422)) == {"cursor"}


@pytest.mark.parametrize("limit", ["0", "-1", "201", "abc", "1.5"])
def test_limit_out_of_bounds_is_422_naming_limit(personas, api_as, limit):
    response = api_as(personas.admin).get(f"organizations?limit={limit}")
    assert error_fields(assert_problem(response, 422)) == {"limit"}


def test_limit_bounds_are_inclusive(personas, api_as):
    api = api_as(personas.admin)
    assert len(api.get("organizations?limit=1").json()["items"]) == 1
    assert api.get("organizations?limit=200").status_code == 200


def test_paginate_refuses_limits_outside_the_bounds():
    with pytest.raises(ValidationFailed) as caught:
        paginate(User.objects.all(), order=["id"], cursor=None, limit=0)
    assert set(caught.value.errors) == {"limit"}


# --- queries do not grow with the page size ---------------------------------------------------


def _many_rows(personas) -> None:
    OrganizationFactory.create_batch(55)
    users = UserFactory.create_batch(55, organization=personas.acme)
    for n in range(55):
        team = TeamFactory()
        team.members.set(users[n : n + 3])
        team.serves.set([personas.acme])
    for n in range(55):
        token_create(actor=personas.admin, name=f"bulk {n}")
        audit_record(actor=personas.admin, action="test.event", object_type="x", object_id=n)


def _query_count(api, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize("path", ["organizations", "users", "teams", "me/tokens", "audit-events"])
def test_queries_do_not_grow_with_page_size(personas, api_as, path):
    _many_rows(personas)
    api = api_as(personas.admin)
    api.get("me")  # the token's first use writes last_used_at; measure steady state
    small = _query_count(api, f"{path}?limit=5")
    large = _query_count(api, f"{path}?limit=50")
    assert len(api.get(f"{path}?limit=50").json()["items"]) == 50
    assert small == large
    assert large <= 4  # token lookup + the page (+ one per prefetched relation)
