"""Per-process caches of the configuration that every write reads, exact across processes.

The priority matrix, the SLA policies, the mailboxes and the organisations' mail domains change
rarely but are read by every ticket or email written. A cache here keeps what it loaded together
with a token, and reloads when the token in the database differs. Database triggers change the
token in the same transaction as any write to a watched table, whatever makes it (services, the
admin, `QuerySet.update()`, raw SQL): so a cache never serves what the database no longer says,
in any process. On PostgreSQL the token comes from a sequence, which a rollback does not undo,
so a token is never reused.

The triggers are (re)installed after every `migrate` (a table rebuilt by a later migration on
SQLite loses its triggers). Without the token row (a flushed test database) nothing is cached.

Reading the token is one small query. Inside `pinned()` it is read once for the whole block:
use it around one unit of work that does not itself change configuration (one email, one ticket
creation), so that several caches cost one query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

T = TypeVar("T")
VERSION_ROW = "config"
VENDORS = ("postgresql", "sqlite")
PIN = "servio_config_pin"  # the connection's attribute holding the token read in `pinned()`
_UNREAD = object()


def _read_token() -> int | None:
    from servio.core.models import ConfigVersion

    table = connection.ops.quote_name(ConfigVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {table} WHERE name = %s", [VERSION_ROW])  # noqa: S608
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def token() -> int | None:
    """The current configuration token (None: unknown, so do not cache)."""
    conn = connections[DEFAULT_DB_ALIAS]  # once: each `connection.x` is a thread-local look-up
    if conn.vendor not in VENDORS:
        return None  # no triggers there: never trust a cache
    pin = getattr(conn, PIN, None)
    if pin is None:
        return _read_token()
    if pin[0] is _UNREAD:
        pin[0] = _read_token()
    return pin[0]


@contextmanager
def pinned() -> Iterator[None]:
    """Read the token at most once in this block (nested blocks share the outer one)."""
    conn = connections[DEFAULT_DB_ALIAS]
    if getattr(conn, PIN, None) is not None:
        yield
        return
    setattr(conn, PIN, [_UNREAD])
    try:
        yield
    finally:
        setattr(conn, PIN, None)


@dataclass
class Cached(Generic[T]):
    """One cached value, loaded by `load` and valid while the token stays the same; writes to
    the tables of `watched` models change the token."""

    name: str
    load: Callable[[], T]
    watched: tuple[type[models.Model], ...] = ()
    _token: int | None = None
    _value: Any = _UNREAD

    def __post_init__(self) -> None:
        watch(*self.watched)

    def get(self) -> T:
        current = token()
        if current is None:
            return self.load()
        if self._value is _UNREAD or self._token != current:
            # Read the token first, then the data: data newer than its token only causes an
            # extra reload later, never a stale answer.
            self._value, self._token = self.load(), current
        return self._value

    def clear(self) -> None:
        self._value, self._token = _UNREAD, None


# --- the triggers -----------------------------------------------------------------------------

# The models whose writes change the token; apps add theirs with `watch()` in AppConfig.ready().
WATCHED: set[type[models.Model]] = set()
PG_FUNCTION = "servio_config_changed"
PG_SEQUENCE = "servio_config_token"


def watch(*watched: type[models.Model]) -> None:
    """Change the configuration token on every write to these models' tables (for a
    many-to-many relation, pass its `through` model)."""
    WATCHED.update(watched)


def install_triggers(using: str = "default", **_: Any) -> None:
    """Create (or replace) the triggers on every watched table; idempotent."""
    from django.db import connections

    from servio.core.models import ConfigVersion

    conn = connections[using]
    table = conn.ops.quote_name(ConfigVersion._meta.db_table)
    existing = set(conn.introspection.table_names())
    if ConfigVersion._meta.db_table not in existing:
        return  # core not migrated yet
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {PG_SEQUENCE}")
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger "  # noqa: S608 - table names from models
                "LANGUAGE plpgsql AS $$ BEGIN "
                f"INSERT INTO {table} (name, token) VALUES ('{VERSION_ROW}', "
                f"nextval('{PG_SEQUENCE}')) "
                "ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token; "
                "RETURN NULL; END $$"
            )
        for name in sorted({m._meta.db_table for m in WATCHED} & existing):
            quoted = conn.ops.quote_name(name)
            if conn.vendor == "postgresql":
                cursor.execute(
                    f"CREATE OR REPLACE TRIGGER {PG_FUNCTION} "
                    f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quoted} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
                )
            elif conn.vendor == "sqlite":
                for event in ("INSERT", "UPDATE", "DELETE"):
                    trigger = conn.ops.quote_name(f"servio_config_{name}_{event.lower()}")
                    # An UPDATE, not INSERT OR REPLACE: SQLite applies the outer statement's
                    # conflict clause to a trigger's statements, so the INSERT OR IGNORE of a
                    # many-to-many add() turned the REPLACE into IGNORE and kept the old token.
                    # (Without the row nothing is cached, so there is nothing to insert.)
                    cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
                    cursor.execute(
                        f"CREATE TRIGGER {trigger} AFTER {event} ON {quoted} "  # noqa: S608
                        f"BEGIN UPDATE {table} SET token = random() "
                        f"WHERE name = '{VERSION_ROW}'; END"
                    )
        # A fresh database, or one whose token row was flushed: start a token.
        if conn.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (name, token) VALUES (%s, nextval('{PG_SEQUENCE}')) "  # noqa: S608
                "ON CONFLICT (name) DO NOTHING",
                [VERSION_ROW],
            )
        else:
            cursor.execute(
                f"INSERT OR IGNORE INTO {table} (name, token) VALUES (%s, random())",  # noqa: S608
                [VERSION_ROW],
            )
