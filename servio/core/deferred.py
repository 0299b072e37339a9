"""Rows that travel with a transaction's last statement instead of a statement of their own.

Inside `collecting()` (the audit's atomic block opens it), `insert_later()` keeps rows that
nothing reads before the block ends (the outbox's) instead of inserting them. The block's end
sends them with its own last statement: on PostgreSQL as data-modifying CTEs of the audit
append (`WITH d0 AS (INSERT ...) INSERT INTO audit ...`), one statement fewer per write; with
nothing to travel with, or on SQLite (no such CTEs), it inserts them itself. A savepoint that
rolls back drops the rows it deferred, as Django drops its on-commit callbacks (decision 15).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import models, transaction

from servio.core.rows import insert_rows, values_sql

ATTRIBUTE = "servio_deferred_rows"  # the connection's list while a block collects


class Deferred:
    """Rows for one table; also the on-commit marker that says they still stand."""

    __slots__ = ("fields", "model", "rows")

    def __init__(self, model: type[models.Model], fields: tuple[str, ...], rows: list) -> None:
        self.model, self.fields, self.rows = model, fields, rows

    def __call__(self) -> None:
        return None


def insert_later(model: type[models.Model], fields: Sequence[str], rows: Sequence[Any]) -> bool:
    """Keep the rows for the end of the collecting block; False (nothing kept) outside one."""
    conn = transaction.get_connection()
    batch = getattr(conn, ATTRIBUTE, None)
    if batch is None or not conn.in_atomic_block:
        return False
    item = Deferred(model, tuple(fields), list(rows))
    transaction.on_commit(item)
    batch.append(item)
    return True


@contextmanager
def collecting() -> Iterator[list[Deferred]]:
    """Collect deferred rows in this block. The caller sends those whose marker is still in
    `run_on_commit` (a savepoint that rolled back took the others' markers with it)."""
    conn = transaction.get_connection()
    batch: list[Deferred] = []
    setattr(conn, ATTRIBUTE, batch)
    try:
        yield batch
    finally:
        setattr(conn, ATTRIBUTE, None)


def as_ctes(items: list[Deferred]) -> tuple[str, list[Any]]:
    """`WITH d0 AS (INSERT ...), ... ` to put before a statement, and its parameters."""
    if not items:
        return "", []
    parts, params = [], []
    for i, item in enumerate(items):
        sql, values = values_sql(item.model, item.fields, item.rows)
        parts.append(f"d{i} AS ({sql})")
        params.extend(values)
    return f"WITH {', '.join(parts)} ", params


def insert_now(items: list[Deferred]) -> None:
    for item in items:
        insert_rows(item.model, item.fields, item.rows)
