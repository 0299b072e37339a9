"""Human ticket numbers per kind (INC-000123), unique under concurrent creation.

PostgreSQL: one sequence per kind, so creators never wait on each other (a rolled-back creation
leaves a gap, as in most service desks). SQLite: a counter row updated inside the creating
transaction (SQLite writers are serial anyway).
"""

from __future__ import annotations

from django.db import connection

from servio.tickets.models import Kind, NumberCounter


def sequence_name(kind: str) -> str:
    return f"servio_ticket_number_{Kind(kind).value}"


def next_number(kind: str) -> int:
    return reserve(kind, 1)


def reserve(kind: str, count: int) -> int:
    """Reserve `count` consecutive numbers; returns the last one (bulk loaders use the range)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if count == 1:
                cursor.execute("SELECT nextval(%s)", [sequence_name(kind)])
                return int(cursor.fetchone()[0])
            # Advance by `count` atomically: a lock-free loop over nextval would interleave.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [sequence_name(kind)])
            cursor.execute(
                "SELECT setval(%s, nextval(%s) + %s - 1)",
                [sequence_name(kind), sequence_name(kind), count],
            )
            return int(cursor.fetchone()[0])
    NumberCounter.objects.get_or_create(kind=kind)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {NumberCounter._meta.db_table} SET last = last + %s WHERE kind = %s "  # noqa: S608
            "RETURNING last",
            [count, kind],
        )
        return int(cursor.fetchone()[0])


def ensure_at_least(kind: str, number: int) -> None:
    """After a bulk load with explicit numbers, make sure new numbers come after them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The sequence name comes from the Kind enum, never from user input.
            sql = f"SELECT setval(%s, GREATEST(%s, (SELECT last_value FROM {sequence_name(kind)})))"  # noqa: S608
            cursor.execute(sql, [sequence_name(kind), number])
        return
    counter, _ = NumberCounter.objects.get_or_create(kind=kind)
    if counter.last < number:
        NumberCounter.objects.filter(kind=kind, last__lt=number).update(last=number)
