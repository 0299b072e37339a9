"""Ticket numbers: one series per kind, never issued twice, gapless on SQLite, safe under
concurrent creation on a real file database (SQLite) and on PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from django.db import connection, connections, transaction

from servio.tickets import numbering, services
from servio.tickets.models import Ticket, format_number, parse_number
from tests.sqlite_files import file_copy_of_the_test_database
from tests.tickets.helpers import log

THREADS, PER_THREAD = 4, 25


@pytest.mark.django_db
def test_numbers_count_per_kind_and_read_back(personas):
    p = personas
    first, second = log(p.requester_acme), log(p.requester_acme)
    request = log(p.requester_acme, kind="request")
    change = log(p.agent_desk, kind="change", requester=p.requester_acme.pk)
    assert second.number == first.number + 1
    assert first.reference == f"INC-{first.number:06d}"
    assert request.reference.startswith("REQ-") and change.reference.startswith("CHG-")
    assert parse_number(first.reference) == ("incident", first.number)
    assert parse_number(" inc-000042 ") == ("incident", 42)
    assert format_number("problem", 1_234_567) == "PRB-1234567"
    for junk in ("INC-", "INC-12a", "XYZ-000001", "INC-٣", "INC-0000000000001", ""):
        assert parse_number(junk) is None


@pytest.mark.django_db
def test_a_rolled_back_creation_never_reuses_its_number(personas):
    p = personas
    before = log(p.requester_acme)
    with pytest.raises(RuntimeError), transaction.atomic():
        log(p.requester_acme)
        raise RuntimeError("the request failed after numbering")
    after = log(p.requester_acme)
    assert Ticket.objects.filter(kind="incident").count() == 2
    if connection.vendor == "sqlite":
        assert after.number == before.number + 1  # the counter rolled back with the ticket
    else:
        assert after.number > before.number  # a sequence may leave a gap, never a repeat


@pytest.mark.django_db
def test_reserve_hands_out_distinct_ascending_numbers(personas):
    log(personas.requester_acme)
    block = numbering.reserve("incident", 5)
    assert block == sorted(set(block)) and len(block) == 5
    if connection.vendor == "sqlite":
        assert block == list(range(block[0], block[0] + 5))
    assert numbering.next_number("incident") > block[-1]
    assert numbering.reserve("incident", 0) == []
    # Sequences outlive test transactions on PostgreSQL: work relative to where this one is.
    top = numbering.next_number("incident")
    numbering.ensure_at_least("incident", top + 1000)
    assert numbering.next_number("incident") == top + 1001


def test_concurrent_creation_never_issues_a_number_twice(transactional_db, tmp_path):
    """THREADS x PER_THREAD tickets created at once: all numbers distinct (and, on SQLite,
    exactly 1..N). SQLite runs on a file copy: an in-memory database cannot be shared the way
    a real deployment shares its file."""
    from tests.factories import make_personas

    p = make_personas()
    sqlite_file = (
        file_copy_of_the_test_database(tmp_path / "numbers.sqlite3")
        if connection.vendor == "sqlite"
        else None
    )
    backend = type(connections["default"])
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def create_many() -> None:
        if sqlite_file is not None:
            # This thread's "default" connection (the configured backend) opens the shared
            # file instead.
            connections["default"] = backend(
                {**connections.settings["default"], "NAME": str(sqlite_file)}, "default"
            )
        try:
            start.wait(timeout=30)
            for i in range(PER_THREAD):
                services.ticket_create(actor=p.requester_acme, title=f"Concurrent {i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=create_many) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    if sqlite_file is not None:
        with sqlite3.connect(sqlite_file) as db:
            rows = db.execute("SELECT number FROM tickets_ticket WHERE kind = 'incident'")
            numbers = [row[0] for row in rows]
    else:
        numbers = list(Ticket.objects.filter(kind="incident").values_list("number", flat=True))
    total = THREADS * PER_THREAD
    assert len(numbers) == total
    assert len(set(numbers)) == total
    if sqlite_file is not None:
        assert sorted(numbers) == list(range(1, total + 1))
