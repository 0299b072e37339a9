"""Ticket text search behind one function: PostgreSQL full-text (GIN) or SQLite FTS5."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Q, QuerySet

from servio.tickets.models import parse_number

_WORD = re.compile(r"\w+", re.UNICODE)


def _fts5_query(text: str) -> str | None:
    """Words become quoted FTS5 terms (no operator injection); the last one matches prefixes."""
    words = _WORD.findall(text)[:12]
    if not words:
        return None
    terms = [f'"{w}"' for w in words]
    terms[-1] += "*"
    return " AND ".join(terms)


def search(queryset: QuerySet, text: str) -> QuerySet:
    """Tickets matching `text`: a ticket number matches exactly, else words in title/description."""
    text = (text or "").strip()
    if not text:
        return queryset
    number = parse_number(text)
    if number is not None:
        return queryset.filter(kind=number[0], number=number[1])
    if text.isdigit():
        return queryset.filter(number=int(text))
    table = queryset.model._meta.db_table
    if connection.vendor == "postgresql":
        return queryset.extra(  # noqa: S610 - fixed SQL, the user text is a bound parameter
            where=[
                f"to_tsvector('simple'::regconfig, COALESCE({table}.title, '') || ' ' || "
                f"COALESCE({table}.description, '')) @@ websearch_to_tsquery('simple', %s)"
            ],
            params=[text],
        )
    if connection.vendor == "sqlite":
        query = _fts5_query(text)
        if query is None:
            return queryset.none()
        return queryset.extra(  # noqa: S610 - fixed SQL, the user text is a bound parameter
            where=[
                f"{table}.id IN (SELECT rowid FROM tickets_ticket_fts WHERE "  # noqa: S608
                "tickets_ticket_fts MATCH %s)"
            ],
            params=[query],
        )
    return queryset.filter(Q(title__icontains=text) | Q(description__icontains=text))
