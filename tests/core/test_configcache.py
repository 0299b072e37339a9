"""Per-process configuration caches: a token that triggers change keeps them exact."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from servio.core import configcache
from servio.core.models import ConfigVersion
from servio.tickets.models import PriorityRule
from servio.tickets.services import priority_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def matrix() -> configcache.Cached[dict[tuple[int, int], int]]:
    loads: list[int] = []

    def load() -> dict[tuple[int, int], int]:
        loads.append(1)
        return {(r.impact, r.urgency): r.priority for r in PriorityRule.objects.all()}

    cached = configcache.Cached("test matrix", load, watched=(PriorityRule,))
    cached.loads = loads  # type: ignore[attr-defined]
    return cached


def raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def test_a_cache_loads_once_while_nothing_changes(matrix):
    first = matrix.get()
    assert matrix.get() is first
    assert len(matrix.loads) == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda: PriorityRule.objects.filter(impact=3, urgency=3).update(priority=4),
        lambda: PriorityRule.objects.filter(impact=3, urgency=3).delete(),
        lambda: raw(f"UPDATE {PriorityRule._meta.db_table} SET priority = 4"),
        lambda: PriorityRule.objects.get(impact=1, urgency=1).save(),
    ],
    ids=["queryset update", "delete", "raw sql", "save"],
)
def test_any_write_to_a_watched_table_reloads_it(matrix, change):
    matrix.get()
    change()
    assert matrix.get() == {(r.impact, r.urgency): r.priority for r in PriorityRule.objects.all()}
    assert len(matrix.loads) == 2


@pytest.mark.parametrize("write", ["add", "bulk_create ignoring conflicts", "set"])
def test_a_many_to_many_add_changes_the_token(personas, write):
    """Django's add() inserts with INSERT OR IGNORE on SQLite, whose conflict clause SQLite
    applies to the trigger's statements too: an INSERT OR REPLACE there kept the old token,
    and a team newly serving an organisation stayed unknown to the directory cache."""
    from servio.accounts import scope

    p = personas
    assert not scope.team_serves(p.team_network.pk, p.acme.pk)  # loaded now
    before = configcache.token()
    through = type(p.team_network).serves.through
    if write == "add":
        p.team_network.serves.add(p.acme)
    elif write == "set":
        p.team_network.serves.set([p.globex, p.acme])
    else:
        through.objects.bulk_create(
            [through(team=p.team_network, organization=p.acme)], ignore_conflicts=True
        )
    assert configcache.token() != before
    assert scope.team_serves(p.team_network.pk, p.acme.pk)


def test_the_services_see_a_changed_matrix_at_once(personas):
    assert priority_for(3, 3) == 5
    PriorityRule.objects.filter(impact=3, urgency=3).update(priority=4)
    assert priority_for(3, 3) == 4


def test_a_rolled_back_change_is_not_served_afterwards(matrix):
    before = matrix.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        PriorityRule.objects.update(priority=1)
        assert set(matrix.get().values()) == {1}  # this transaction sees its own change
        raise RuntimeError("boom")
    assert matrix.get() == before


def test_pinned_reads_the_token_once(matrix):
    matrix.get()
    priority_for(1, 1)
    with configcache.pinned(), CaptureQueriesContext(connection) as ctx:
        for _ in range(3):
            matrix.get()
            priority_for(1, 1)
    assert len(ctx.captured_queries) == 1


def test_without_the_token_row_nothing_is_cached(matrix):
    ConfigVersion.objects.all().delete()
    matrix.get()
    matrix.get()
    assert len(matrix.loads) == 2


def test_install_triggers_is_idempotent_and_restores_the_token_row(matrix):
    ConfigVersion.objects.all().delete()
    configcache.install_triggers()
    configcache.install_triggers()
    assert ConfigVersion.objects.filter(name=configcache.VERSION_ROW).count() == 1
    matrix.get()
    PriorityRule.objects.filter(impact=3, urgency=3).update(priority=4)
    assert matrix.get()[(3, 3)] == 4
