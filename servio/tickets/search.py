"""Ticket text search behind one function: PostgreSQL full-text (GIN) or SQLite FTS5.

Both backends read the words the same way: every word must occur (in the title or the
description), and the last one may be the start of a word, so "print" finds "printer" while
the user is still typing. Words are extracted with a regex and quoted, so no query syntax of
either engine can be injected.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Q, QuerySet

from servio.tickets.models import parse_number

_WORD = re.compile(r"\w+", re.UNICODE)
_BARE_NUMBER = re.compile(r"^[0-9]{1,12}$")
MAX_WORDS = 12


def _words(text: str) -> list[str]:
    return _WORD.findall(text)[:MAX_WORDS]


def _fts5_query(words: list[str]) -> str:
    """Quoted FTS5 terms ANDed together; the last one matches prefixes."""
    terms = [f'"{w}"' for w in words]
    terms[-1] += "*"
    return " AND ".join(terms)


def _tsquery(words: list[str]) -> str:
    """A to_tsquery expression: \\w+ words cannot hold tsquery operators; the last is a prefix."""
    terms = [w.lower() for w in words]
    terms[-1] += ":*"
    return " & ".join(terms)


def search(queryset: QuerySet, text: str) -> QuerySet:
    """Tickets matching `text`: a ticket number matches exactly, else words in title/description."""
    text = (text or "").strip()
    if not text:
        return queryset
    number = parse_number(text)
    if number is not None:
        return queryset.filter(kind=number[0], number=number[1])
    if _BARE_NUMBER.match(text):
        return queryset.filter(number=int(text))
    words = _words(text)
    if not words:
        return queryset.none()
    table = queryset.model._meta.db_table
    if connection.vendor == "postgresql":
        return queryset.extra(  # noqa: S610 - fixed SQL, the user text is a bound parameter
            where=[
                f"to_tsvector('simple'::regconfig, COALESCE({table}.title, '') || ' ' || "
                f"COALESCE({table}.description, '')) @@ to_tsquery('simple'::regconfig, %s)"
            ],
            params=[_tsquery(words)],
        )
    if connection.vendor == "sqlite":
        return queryset.extra(  # noqa: S610 - fixed SQL, the user text is a bound parameter
            where=[
                f"{table}.id IN (SELECT rowid FROM tickets_ticket_fts WHERE "  # noqa: S608
                "tickets_ticket_fts MATCH %s)"
            ],
            params=[_fts5_query(words)],
        )
    condition = Q()
    for word in words:
        condition &= Q(title__icontains=word) | Q(description__icontains=word)
    return queryset.filter(condition)


# --- the SQLite full-text index's triggers ----------------------------------------------------

SQLITE_TRIGGERS = {
    "tickets_ticket_fts_ai": "AFTER INSERT ON tickets_ticket BEGIN "
    "INSERT INTO tickets_ticket_fts(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
    "tickets_ticket_fts_ad": "AFTER DELETE ON tickets_ticket BEGIN "
    "INSERT INTO tickets_ticket_fts(tickets_ticket_fts, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); END",
    "tickets_ticket_fts_au": "AFTER UPDATE OF title, description ON tickets_ticket BEGIN "
    "INSERT INTO tickets_ticket_fts(tickets_ticket_fts, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); "
    "INSERT INTO tickets_ticket_fts(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
}


def install_sqlite_triggers(using: str = "default", **_: object) -> bool:
    """After every `migrate` (post_migrate): put back the triggers that keep the FTS5 index in
    step with the ticket table. SQLite drops a table's triggers when a migration rebuilds the
    table (AlterField and friends), and search would then silently miss every new ticket.
    When one was missing, the index is rebuilt from the table. Returns whether it was."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "sqlite":
        return False
    tables = set(conn.introspection.table_names())
    if not {"tickets_ticket", "tickets_ticket_fts"} <= tables:
        return False  # not migrated that far yet (migration 0002 creates the index)
    with conn.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
        missing = [name for name in SQLITE_TRIGGERS if name not in present]
        for name in missing:
            cursor.execute(f"CREATE TRIGGER {name} {SQLITE_TRIGGERS[name]}")
        if missing:
            cursor.execute("INSERT INTO tickets_ticket_fts(tickets_ticket_fts) VALUES ('rebuild')")
    return bool(missing)
