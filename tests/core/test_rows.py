"""The lean row helpers: a joined read gives the same instances as the ORM, in one query."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from servio.accounts.models import ApiToken
from servio.core.rows import fetch_joined, insert_instance
from tests.factories import UserFactory

PATH = ("user", "organization")


def _token(user, **fields) -> ApiToken:
    return ApiToken.objects.create(user=user, name="ci", key_hash="0" * 64, **fields)


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_a_joined_read_matches_the_orm_and_needs_no_further_query(
    personas, django_assert_num_queries
):
    used = timezone.now() - timedelta(minutes=3)
    _token(personas.agent_desk, prefix="abc123", last_used_at=used, last_used_ip="10.0.0.7")
    expected = ApiToken.objects.select_related("user__organization").get(prefix="abc123")

    with django_assert_num_queries(1):
        token = fetch_joined(ApiToken, PATH, "prefix", "abc123")
        organization = token.user.organization

    assert _fields(token) == _fields(expected)
    assert token.last_used_at == used and timezone.is_aware(token.last_used_at)
    assert _fields(token.user) == _fields(expected.user)
    assert _fields(organization) == _fields(personas.provider)
    assert token._state.adding is False and token._state.db == "default"


def test_a_missing_optional_relation_is_none_without_a_query(db, django_assert_num_queries):
    loner = UserFactory(email="loner@example.com", organization=None)
    _token(loner, prefix="nobody")

    with django_assert_num_queries(1):
        token = fetch_joined(ApiToken, PATH, "prefix", "nobody")
        assert token.user.organization is None


def test_an_unknown_key_gives_none(personas):
    _token(personas.agent_desk, prefix="known")

    assert fetch_joined(ApiToken, PATH, "prefix", "unknown") is None


def test_an_insert_takes_computed_values_from_the_database(personas, django_assert_num_queries):
    token = ApiToken(user=personas.agent_desk, name="ci", key_hash="1" * 64, prefix="ignored")

    with django_assert_num_queries(1):
        assert insert_instance(token, computed={"prefix": ("lower(%s)", ["ABC123"])})

    assert token.prefix == "abc123" and token.pk is not None and token._state.adding is False
    assert ApiToken.objects.get(pk=token.pk).prefix == "abc123"


def test_prepared_values_are_the_ones_the_orm_sends(db):
    """The shortcuts of `preparer` hand the database what `get_db_prep_save` would."""
    import json
    import uuid

    from django.db import connection

    from servio.core.models import OutboxMessage
    from servio.core.rows import preparer
    from servio.tickets.models import Ticket

    cases = {
        (Ticket, "title"): ["Printer", "", None, 12],
        (Ticket, "source"): [Ticket.Source.API, "api"],
        (Ticket, "number"): [7, None, "8"],
        (Ticket, "requester"): [3, None, ""],
        (Ticket, "is_major"): [True, False, 0],
        (Ticket, "created_at"): [timezone.now(), None, "2026-12-07T10:00:00+01:00"],
        (OutboxMessage, "event_id"): [uuid.uuid4(), str(uuid.uuid4()), None],
    }
    for (model, name), values in cases.items():
        field = model._meta.get_field(name)
        prepare = preparer(field)
        for value in values:
            expected = field.get_db_prep_save(value, connection)
            got = prepare(value, connection)
            assert got == expected and type(got) is type(expected), (name, value, got, expected)

    payload = OutboxMessage._meta.get_field("payload")
    value = {"ticket_id": 5, "note": "é <b>"}
    assert json.loads(preparer(payload)(value, connection)) == value


def test_a_read_with_several_relations_matches_select_related(personas, django_assert_num_queries):
    from servio.core.rows import fetch_related
    from servio.tickets import services
    from servio.tickets.models import Category, Ticket

    parent = services.ticket_create(actor=personas.agent_desk, title="Parent", is_major=True)
    child = services.ticket_create(
        actor=personas.agent_desk,
        title="Child",
        requester=personas.requester_acme,
        category=Category.objects.create(name="Hardware"),
        parent=parent.reference,
    )
    related = ("requester", "assignee", "category", "parent")
    expected = Ticket.objects.select_related(*related).get(pk=child.pk)

    with django_assert_num_queries(1):
        got = fetch_related(Ticket, related, kind=child.kind, number=child.number)
        assert got.assignee is None  # a missing relation, without a query
        linked = (got.requester, got.category, got.parent)

    assert _fields(got) == _fields(expected)
    for mine, theirs in zip(
        linked, (expected.requester, expected.category, expected.parent), strict=True
    ):
        assert _fields(mine) == _fields(theirs)
    assert fetch_related(Ticket, related, kind=child.kind, number=child.number + 1000) is None


def test_all_rows_of_a_key_in_order(personas):
    from servio.core.rows import fetch_all

    tokens = [_token(personas.agent_desk, prefix=f"p{i}") for i in range(3)]
    _token(personas.requester_acme, prefix="other")

    got = fetch_all(ApiToken, user=personas.agent_desk.pk)
    assert [t.pk for t in got] == sorted(t.pk for t in tokens)
    assert [t.prefix for t in fetch_all(ApiToken, order="prefix", user=personas.agent_desk.pk)] == [
        "p0",
        "p1",
        "p2",
    ]
    assert fetch_all(ApiToken, user=personas.agent_desk.pk, prefix="none") == []
