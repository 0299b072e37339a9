"""Lean INSERTs and UPDATEs for the rows written on every hot path (outbox rows, audit events,
inbound email).

`QuerySet.bulk_create` costs about a millisecond of Python for a handful of rows (model
preparation, the UNNEST compiler), and a plain `save()` most of one; the outbox, the audit chain
and the email intake write several rows in every transaction. These build the statement
directly, with every value prepared exactly as the ORM prepares it (`Field.pre_save` and
`Field.get_db_prep_save`), so the rows are the same. No signals are sent: use them only for
models that have no receivers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, cast

from django.db import DatabaseError, connection, models

BATCH = 500


def values_sql(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> tuple[str, list[Any]]:
    """`INSERT INTO table (columns) VALUES ...` and its parameters, for these rows; with
    `ignore_conflicts`, a row that breaks a unique constraint is skipped."""
    concrete = [_concrete(model, name) for name in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    one = "(" + ", ".join(["%s"] * len(concrete)) + ")"
    sql = f"INSERT INTO {table} ({columns(model, fields)}) VALUES " + ", ".join([one] * len(rows))  # noqa: S608
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    params = [
        field.get_db_prep_save(value, connection)
        for row in rows
        for field, value in zip(concrete, row, strict=True)
    ]
    return sql, params


class _Column(Protocol):
    column: str

    def get_db_prep_save(self, value: Any, connection: Any) -> Any: ...

    def pre_save(self, model_instance: models.Model, add: bool) -> Any: ...


def _concrete(model: type[models.Model], name: str) -> _Column:
    """The concrete field of this name (or attname), as the statements here use it."""
    return cast(_Column, model._meta.get_field(name))


def columns(model: type[models.Model], fields: Sequence[str]) -> str:
    """The quoted column names of these fields, comma-separated."""
    return ", ".join(connection.ops.quote_name(_concrete(model, name).column) for name in fields)


def _pk_column(model: type[models.Model]) -> str:
    return connection.ops.quote_name(_concrete(model, model._meta.pk.name).column)  # type: ignore[union-attr]


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """Insert the rows (each a value per field, in order) in as few statements as possible."""
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            cursor.execute(*values_sql(model, fields, batch, ignore_conflicts=ignore_conflicts))


def insert_instance(instance: models.Model, *, ignore_conflicts: bool = False) -> bool:
    """INSERT one new instance (of a model with an automatic id) as `save(force_insert=True)`
    does, in one statement, and set its id; no signals. With `ignore_conflicts`, a row that a
    unique constraint refuses is skipped and the answer is False."""
    meta = instance._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.pre_save(instance, True) for f in fields]  # defaults, auto_now_add, ...
    sql, params = values_sql(
        type(instance), [f.attname for f in fields], [values], ignore_conflicts=ignore_conflicts
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {_pk_column(type(instance))}", params)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return True


def update_instance(instance: models.Model, fields: Sequence[str]) -> None:
    """UPDATE these fields of a saved instance as `save(update_fields=...)` does, in one
    statement; no signals."""
    meta = instance._meta
    concrete = [_concrete(type(instance), name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in concrete)
    params = [f.get_db_prep_save(f.pre_save(instance, False), connection) for f in concrete]
    table, pk_column = quote(meta.db_table), _pk_column(type(instance))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s",  # noqa: S608
            [*params, instance.pk],
        )
        if cursor.rowcount != 1:
            raise DatabaseError(f"{meta.label} {instance.pk} was not updated: it is gone.")
