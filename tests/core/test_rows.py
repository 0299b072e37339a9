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
