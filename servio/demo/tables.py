"""Fast row writers for bulk loads: COPY on PostgreSQL, executemany on SQLite.

Rows are written exactly as the ORM would store them. Columns the caller does not give are filled
with the model field's default, so a column added to a model later does not break the loader
(a new column without a default does, with a message naming it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from django.db import connection, models


class TableWriter:
    """Writes tuples of values (in `columns` order, by field attname) into a model's table."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        self.model = model
        self.table = model._meta.db_table
        self.columns = list(columns)
        by_name = {f.attname: f for f in model._meta.concrete_fields}
        unknown = set(self.columns) - set(by_name)
        if unknown:
            raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
        self.fields = [by_name[name] for name in self.columns]
        self.extra_fields = []
        self.extra_values: list = []
        for name, f in by_name.items():
            if name in self.columns or (f.primary_key and isinstance(f, models.AutoField)):
                continue
            if not (f.has_default() or f.null or f.has_db_default()):
                raise ValueError(
                    f"{model.__name__}.{name} has no default: teach servio/demo what to write "
                    "into it for generated rows."
                )
            if f.has_db_default():
                continue  # the database fills it
            self.extra_fields.append(f)
            self.extra_values.append(self._prepare(f, f.get_default()))
        self.names = self.columns + [f.column for f in self.extra_fields]

    @staticmethod
    def _prepare(f: models.Field, value):
        if value is None:
            return None
        if isinstance(f, models.JSONField):
            return json.dumps(value)
        if connection.vendor == "postgresql":
            return value
        return f.get_db_prep_save(value, connection)

    def write(self, rows: Iterable[Sequence]) -> int:
        """Insert the rows; JSON columns take JSON text. Returns the number of rows."""
        qn = connection.ops.quote_name
        columns = ", ".join(qn(self.column_of(name)) for name in self.names)
        extra = tuple(self.extra_values)
        count = 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {qn(self.table)} ({columns}) FROM STDIN") as copy:
                    write = copy.write_row
                    if extra:
                        for row in rows:
                            write((*row, *extra))
                            count += 1
                    else:
                        for row in rows:
                            write(row)
                            count += 1
                return count
            converters = self._sqlite_converters()
            placeholders = ", ".join(["%s"] * len(self.names))
            sql = f"INSERT INTO {qn(self.table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
            chunk: list = []
            for row in rows:
                values = list(row)
                for i, convert in converters:
                    if values[i] is not None:
                        values[i] = convert(values[i])
                values.extend(extra)
                chunk.append(values)
                if len(chunk) >= 2000:
                    cursor.executemany(sql, chunk)
                    count += len(chunk)
                    chunk = []
            if chunk:
                cursor.executemany(sql, chunk)
                count += len(chunk)
        return count

    def column_of(self, name: str) -> str:
        for f in self.fields:
            if f.attname == name:
                return f.column
        return name

    def _sqlite_converters(self) -> list:
        ops = connection.ops
        result = []
        for i, f in enumerate(self.fields):
            if isinstance(f, models.DateTimeField):
                result.append((i, ops.adapt_datetimefield_value))
            elif isinstance(f, models.JSONField):
                result.append((i, lambda v: v if isinstance(v, str) else json.dumps(v)))
        return result


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys for `count` new rows, taken so that later ORM inserts never collide.

    PostgreSQL: drawn from the table's identity sequence. SQLite: the caller's write transaction
    holds the database lock, so the ids after the highest ever used are free.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        qn = connection.ops.quote_name
        cursor.execute(f"SELECT MAX({qn(pk)}) FROM {qn(table)}")  # noqa: S608 - model metadata
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
        if cursor.fetchone():
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            top = max(top, row[0] if row else 0)
    return list(range(top + 1, top + 1 + count))


def analyze(models_: Iterable[type[models.Model]]) -> None:
    """Refresh the planner's statistics after a bulk load."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {qn(model._meta.db_table)}")
