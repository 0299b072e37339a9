"""Lean INSERTs and UPDATEs for the rows written on every hot path (outbox rows, audit events,
inbound email).

`QuerySet.bulk_create` costs about a millisecond of Python for a handful of rows (model
preparation, the UNNEST compiler), and a plain `save()` most of one; the outbox, the audit chain
and the email intake write several rows in every transaction. These build the statement
directly, with every value prepared exactly as the ORM prepares it (`Field.pre_save` and
`Field.get_db_prep_save`), so the rows are the same. No signals are sent: use them only for
models that have no receivers.

The reads (`fetch_joined`, `fetch_related`, `fetch_all`) do the same for the few queries every
request runs (the API token, a ticket with its people, its clocks): the ORM compiles a query
anew on every call, which cost more than running it; these compile once per shape and give the
same instances, related ones cached as `select_related` caches them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models
from django.db.models.fields import AutoFieldMixin

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
    conn = connections[DEFAULT_DB_ALIAS]
    shape = _shape(model, tuple(fields), conn.vendor)
    sql = shape.insert + ", ".join([shape.one_row] * len(rows))
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    params = [
        prepare(value, conn)
        for row in rows
        for prepare, value in zip(shape.prepare, row, strict=True)
    ]
    return sql, params


# Stock fields whose preparation hands back a value of these exact types unchanged.
_IDENTITY = (
    (models.CharField, (str,)),
    (models.TextField, (str,)),
    (models.AutoField, (int,)),  # through a foreign key: AutoFieldMixin adapts nothing more
    (models.BigAutoField, (int,)),
    (models.BooleanField, (bool,)),
)
_STOCK_DB_PREP_VALUE = (models.Field.get_db_prep_value, AutoFieldMixin.get_db_prep_value)

Prepare = Callable[[Any, Any], Any]  # (value, connection) -> the parameter to send


def preparer(field: Any) -> Prepare:
    """`field.get_db_prep_save`, with its common cases worked out once: a string for a text
    column, an int for an integer or a foreign key, a bool, and None stay as they are (the
    stock fields return them unchanged), and JSON is serialised as the ORM serialises it (the
    database casts the text to json). Any other value, or a field that prepares values its own
    way, goes through the field."""

    def slow(value: Any, conn: Any) -> Any:
        return field.get_db_prep_save(value, conn)

    if isinstance(field, models.JSONField):
        if type(field).get_db_prep_value is not models.JSONField.get_db_prep_value:
            return slow
        encoder = field.encoder

        def prepare_json(value: Any, conn: Any) -> Any:
            if type(value) in (dict, list):
                return json.dumps(value, cls=encoder)
            return slow(value, conn)

        return prepare_json
    if type(field) is models.DateTimeField and settings.USE_TZ:

        def prepare_datetime(value: Any, conn: Any) -> Any:
            # An aware datetime (or None) is what get_prep_value hands on unchanged.
            if value is None or (type(value) is dt.datetime and value.tzinfo is not None):
                return conn.ops.adapt_datetimefield_value(value)
            return slow(value, conn)

        return prepare_datetime
    if type(field) is models.UUIDField:

        def prepare_uuid(value: Any, conn: Any) -> Any:
            if type(value) is uuid.UUID:
                return value if conn.features.has_native_uuid_field else value.hex
            return slow(value, conn)

        return prepare_uuid
    target = field
    if isinstance(field, models.ForeignKey):
        if type(field).get_db_prep_save is not models.ForeignKey.get_db_prep_save:
            return slow
        target = field.target_field
    cls = type(target)
    if cls.get_db_prep_save is not models.Field.get_db_prep_save:
        return slow
    if cls.get_db_prep_value is models.IntegerField.get_db_prep_value and (
        cls.get_prep_value is models.IntegerField.get_prep_value
    ):
        internal = target.get_internal_type()

        def prepare_int(value: Any, conn: Any) -> Any:
            if type(value) is int or value is None:  # what get_prep_value hands on
                return conn.ops.adapt_integerfield_value(value, internal)
            return slow(value, conn)

        return prepare_int
    if cls.get_db_prep_value not in _STOCK_DB_PREP_VALUE:
        return slow
    kind, types = next(((k, t) for k, t in _IDENTITY if isinstance(target, k)), (None, ()))
    if kind is None or cls.get_prep_value is not kind.get_prep_value:
        return slow
    if cls.to_python is not kind.to_python:
        return slow
    passes = frozenset((*types, type(None)))

    def prepare_plain(value: Any, conn: Any) -> Any:
        return value if type(value) in passes else slow(value, conn)

    return prepare_plain


class _Column(Protocol):
    column: str

    def get_db_prep_save(self, value: Any, connection: Any) -> Any: ...

    def pre_save(self, model_instance: models.Model, add: bool) -> Any: ...


@dataclass(frozen=True)
class _Shape:
    """What the statements of one model and field list share (worked out once)."""

    fields: tuple[_Column, ...]
    prepare: tuple[Prepare, ...]  # each field's get_db_prep_save, see `preparer`
    quoted: tuple[str, ...]  # their column names
    columns: str
    insert: str  # INSERT INTO table (columns) VALUES
    one_row: str  # (%s, %s, ...)
    table: str
    pk_column: str


@functools.cache
def _shape(model: type[models.Model], fields: tuple[str, ...], vendor: str) -> _Shape:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    meta = model._meta
    concrete = tuple(cast(_Column, meta.get_field(name)) for name in fields)
    quoted = tuple(quote(field.column) for field in concrete)
    columns = ", ".join(quoted)
    table = quote(meta.db_table)
    return _Shape(
        fields=concrete,
        prepare=tuple(preparer(field) for field in concrete),
        quoted=quoted,
        columns=columns,
        insert=f"INSERT INTO {table} ({columns}) VALUES ",  # noqa: S608
        one_row="(" + ", ".join(["%s"] * len(concrete)) + ")",
        table=table,
        pk_column=quote(cast(_Column, meta.pk).column),
    )


def columns(model: type[models.Model], fields: Sequence[str]) -> str:
    """The quoted column names of these fields, comma-separated."""
    return _shape(model, tuple(fields), connections[DEFAULT_DB_ALIAS].vendor).columns


def preparers(model: type[models.Model], fields: Sequence[str]) -> tuple[Prepare, ...]:
    """Each field's `preparer`, worked out once per model and field list."""
    return _shape(model, tuple(fields), connections[DEFAULT_DB_ALIAS].vendor).prepare


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """Insert the rows (each a value per field, in order) in as few statements as possible."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            cursor.execute(*values_sql(model, fields, batch, ignore_conflicts=ignore_conflicts))


def insert_instance(
    instance: models.Model,
    *,
    ignore_conflicts: bool = False,
    computed: dict[str, tuple[str, Sequence[Any]]] | None = None,
) -> bool:
    """INSERT one new instance (of a model with an automatic id) as `save(force_insert=True)`
    does, in one statement, and set its id; no signals. With `ignore_conflicts`, a row that a
    unique constraint refuses is skipped and the answer is False. `computed` maps fields to an
    SQL expression and its parameters (a sequence's `nextval`) evaluated by the INSERT; the
    instance gets the values the database chose."""
    model, conn = type(instance), connections[DEFAULT_DB_ALIAS]
    fields = _insert_fields(model)
    shape = _shape(model, fields, conn.vendor)
    computed = computed or {}
    placeholders: list[str] = []
    params: list[Any] = []
    returned: list[tuple[str, str]] = []  # (attribute, quoted column)
    for name, field, prepare, column in zip(
        fields, shape.fields, shape.prepare, shape.quoted, strict=True
    ):
        if name in computed:
            expression, expression_params = computed[name]
            placeholders.append(expression)
            params.extend(expression_params)
            returned.append((name, column))
        else:  # defaults, auto_now_add, ... as the ORM prepares them
            placeholders.append("%s")
            params.append(prepare(field.pre_save(instance, True), conn))
    sql = f"{shape.insert}({', '.join(placeholders)})"
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    back = ", ".join([shape.pk_column, *(column for _, column in returned)])
    with conn.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {back}", params)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    for (name, _), value in zip(returned, row[1:], strict=True):
        setattr(instance, name, value)
    instance._state.adding = False
    instance._state.db = conn.alias
    return True


@functools.cache
def _insert_fields(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if not f.primary_key)


def update_instance(instance: models.Model, fields: Sequence[str]) -> None:
    """UPDATE these fields of a saved instance as `save(update_fields=...)` does, in one
    statement; no signals."""
    conn = connections[DEFAULT_DB_ALIAS]
    shape = _shape(type(instance), tuple(fields), conn.vendor)
    assignments = ", ".join(f"{column} = %s" for column in shape.quoted)
    params = [
        prepare(f.pre_save(instance, False), conn)
        for f, prepare in zip(shape.fields, shape.prepare, strict=True)
    ]
    with conn.cursor() as cursor:
        cursor.execute(
            f"UPDATE {shape.table} SET {assignments} WHERE {shape.pk_column} = %s",  # noqa: S608
            [*params, instance.pk],
        )
        if cursor.rowcount != 1:
            raise DatabaseError(
                f"{instance._meta.label} {instance.pk} was not updated: it is gone."
            )


# --- reading one row with its to-one relations --------------------------------------------


@dataclass(frozen=True)
class _Level:
    """One model of a joined read: its alias, fields and the key that links it to its parent."""

    model: type[models.Model]
    fields: tuple[Any, ...]
    attnames: tuple[str, ...]
    pk_index: int
    converters: tuple[tuple[int, Any, tuple[Any, ...]], ...]  # (position, column, converters)
    link: Any  # the foreign key on the parent level (None for the first level)
    parent: int  # index of the parent level


@dataclass(frozen=True)
class _Joined:
    sql: str
    levels: tuple[_Level, ...]


@functools.cache
def _joined(
    model: type[models.Model],
    paths: tuple[str, ...],
    keys: tuple[str, ...],
    vendor: str,
    extra: tuple[str, ...] = (),
    order: str | None = None,
) -> _Joined:
    """The SELECT of `model` with the to-one relations of `paths` ("a__b" as in
    `select_related`) joined, filtered on equality of `keys`; LIMIT 1 unless ordered."""
    conn = connections[DEFAULT_DB_ALIAS]
    quote = conn.ops.quote_name
    levels: list[_Level] = []
    selects: list[str] = []
    joins: list[str] = []
    position = 0
    known: dict[str, int] = {}  # a relation path -> its level

    def add(owner: Any, link: Any, parent: int) -> int:
        nonlocal position
        alias = f"t{len(levels)}"
        fields: tuple[Any, ...] = tuple(owner._meta.concrete_fields)
        converters = []
        for field in fields:
            col = field.get_col(alias)
            found = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
            if found:
                converters.append((position, col, tuple(found)))
            selects.append(f"{alias}.{quote(field.column)}")
            position += 1
        attnames = tuple(f.attname for f in fields)
        pk_index = attnames.index(owner._meta.pk.attname)
        levels.append(_Level(owner, fields, attnames, pk_index, tuple(converters), link, parent))
        return len(levels) - 1

    add(model, None, -1)
    for path in paths:
        level, prefix = 0, ""
        for name in path.split("__"):
            prefix = f"{prefix}__{name}" if prefix else name
            if prefix in known:
                level = known[prefix]
                continue
            # Django's field and relation classes are loosely typed: concrete to-one fields.
            owner: Any = levels[level].model
            link: Any = owner._meta.get_field(name)
            if not (link.many_to_one or link.one_to_one) or not link.concrete:
                raise ValueError(f"{owner.__name__}.{name} is not a to-one relation")
            target = link.related_model
            kind = "LEFT JOIN" if link.null or levels[level].link is not None else "JOIN"
            alias = f"t{len(levels)}"
            joins.append(
                f"{kind} {quote(target._meta.db_table)} {alias} ON {alias}."
                f"{quote(link.target_field.column)} = t{level}.{quote(link.column)}"
            )
            level = known[prefix] = add(target, link, level)
    where = " AND ".join(
        f"t0.{quote(cast(_Column, model._meta.get_field(key)).column)} = %s" for key in keys
    )
    selects.extend(extra)
    sql = (
        f"SELECT {', '.join(selects)} FROM {quote(model._meta.db_table)} t0 "  # noqa: S608
        f"{' '.join(joins)} WHERE {where} "
    )
    if order is None:
        sql += "LIMIT 1"
    else:
        by = model._meta.pk if order == "pk" else model._meta.get_field(order)
        sql += f"ORDER BY t0.{quote(cast(_Column, by).column)}"
    return _Joined(sql, tuple(levels))


def fetch_joined(model: type[models.Model], path: Sequence[str], key: str, value: Any):
    """The instance whose unique `key` is `value`, with the chain of to-one relations named by
    `path` (as `select_related("a__b")`) loaded, or None. One prepared statement, compiled once:
    the ORM spends about a millisecond compiling such a query on every call, and the API reads
    the bearer token on every request."""
    return fetch_joined_with(model, path, key, value, ())[0]


def fetch_joined_with(
    model: type[models.Model], path: Sequence[str], key: str, value: Any, extra: tuple[str, ...]
) -> tuple[Any, tuple[Any, ...]]:
    """`fetch_joined`, and the values of the `extra` SQL expressions (constant SQL, e.g. a
    scalar subquery) read in the same statement: (instance or None, values)."""
    conn = connections[DEFAULT_DB_ALIAS]
    paths = ("__".join(path),) if path else ()
    joined = _joined(model, paths, (key,), conn.vendor, extra)
    rows = _rows(conn, joined, [value])
    if not rows:
        return None, ()
    return _instance(conn, joined, rows[0]), tuple(rows[0][len(rows[0]) - len(extra) :])


def fetch_related(model: type[models.Model], related: Sequence[str], **where: Any):
    """The one instance whose fields equal `where` (a unique key), with the to-one relations
    of `related` loaded as `select_related(*related)` does, or None; compiled once."""
    conn = connections[DEFAULT_DB_ALIAS]
    joined = _joined(model, tuple(related), tuple(where), conn.vendor)
    rows = _rows(conn, joined, _prepared(model, where, conn))
    return _instance(conn, joined, rows[0]) if rows else None


def fetch_all(model: type[models.Model], *, order: str = "pk", **where: Any) -> list[Any]:
    """The instances whose fields equal `where`, ordered by `order`; compiled once."""
    conn = connections[DEFAULT_DB_ALIAS]
    joined = _joined(model, (), tuple(where), conn.vendor, (), order)
    return [
        _instance(conn, joined, row) for row in _rows(conn, joined, _prepared(model, where, conn))
    ]


def _prepared(model: type[models.Model], where: dict[str, Any], conn: Any) -> list[Any]:
    prepares = _shape(model, tuple(where), conn.vendor).prepare
    return [prepare(value, conn) for prepare, value in zip(prepares, where.values(), strict=True)]


def _rows(conn: Any, joined: _Joined, params: list[Any]) -> list[tuple[Any, ...]]:
    with conn.cursor() as cursor:
        cursor.execute(joined.sql, params)
        return cursor.fetchall()


def _instance(conn: Any, joined: _Joined, row: tuple[Any, ...]) -> Any:
    values = list(row)
    objects: list[models.Model | None] = []
    start = 0
    for level in joined.levels:
        for position, col, converters in level.converters:
            for convert in converters:
                values[position] = convert(values[position], col, conn)
        end = start + len(level.fields)
        chunk = values[start:end]
        start = end
        parent = objects[level.parent] if level.parent >= 0 else None
        if level.parent >= 0 and parent is None:
            objects.append(None)
            continue
        obj = None
        if chunk[level.pk_index] is not None:
            obj = level.model.from_db(conn.alias, level.attnames, chunk)
        if parent is not None:
            level.link.set_cached_value(parent, obj)
        objects.append(obj)
    return objects[0]
