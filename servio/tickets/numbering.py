"""Human ticket numbers per kind (INC-000123), unique under concurrent creation.

PostgreSQL: one sequence per kind, so creators never wait on each other (a rolled-back creation
leaves a gap, as in most service desks; numbers are never issued twice). SQLite: a counter row
bumped by one upsert inside the creating transaction, so a rollback returns the number and the
series has no gaps (SQLite writers are serial anyway).
"""

from __future__ import annotations

from django.db import connection

from servio.tickets.models import Kind, NumberCounter


def sequence_name(kind: str) -> str:
    return f"servio_ticket_number_{Kind(kind).value}"


def next_number(kind: str) -> int:
    """The next number of this kind; call it inside the transaction that saves the ticket."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [sequence_name(kind)])
            return int(cursor.fetchone()[0])
    return reserve(kind, 1)[0]


def reserve(kind: str, count: int) -> list[int]:
    """Reserve `count` numbers for a bulk load, ascending. They are consecutive on SQLite; on
    PostgreSQL concurrent creators may take numbers in between (a sequence cannot hand out a
    block atomically), so use exactly the numbers returned."""
    if count < 1:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", [sequence_name(kind), count]
            )
            return sorted(int(row[0]) for row in cursor.fetchall())
    table = NumberCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (kind, last) VALUES (%s, %s) "  # noqa: S608 - our table name
            "ON CONFLICT (kind) DO UPDATE SET last = last + excluded.last RETURNING last",
            [Kind(kind).value, count],
        )
        last = int(cursor.fetchone()[0])
    return list(range(last - count + 1, last + 1))


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
