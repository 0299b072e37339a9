"""The SQLite full-text index survives a table rebuild: `migrate` puts its triggers back."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from servio.tickets import search
from servio.tickets.models import Ticket
from tests.tickets.helpers import log

pytestmark = pytest.mark.django_db(transaction=True)


def _triggers() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


def test_migrate_reinstalls_the_search_triggers_and_catches_up(personas):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL indexes an expression: it has no triggers to lose")
    with connection.cursor() as cursor:  # what a table rebuild by a migration does to them
        for name in search.SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    written_blind = log(personas.requester_acme, title="Plotter smudges every page")
    assert not search.search(Ticket.objects.all(), "plotter").exists()

    call_command("migrate", verbosity=0)

    assert set(search.SQLITE_TRIGGERS) <= _triggers()
    assert list(search.search(Ticket.objects.all(), "plotter")) == [written_blind]
    later = log(personas.requester_acme, title="Scanner jams on duplex")
    assert list(search.search(Ticket.objects.all(), "duplex")) == [later]
    assert search.install_sqlite_triggers() is False  # nothing missing: nothing rebuilt
