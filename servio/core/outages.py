"""Which database errors mean "the database is unavailable for now" (answered 503, retry later)
rather than a fault in our code (500): one rule for the API, the pages and /health."""

from __future__ import annotations

from django.conf import settings
from django.db import Error, InterfaceError, OperationalError

from servio.core.errors import DatabaseUnavailable

DOWN = "the database server does not answer"
# PostgreSQL SQLSTATEs (by class, then exact code) that pass once the server is back or less busy.
POSTGRES_CLASSES = {
    "08": DOWN,  # connection exception
    "53": "the database server is out of resources (connections, memory or disk)",
}
POSTGRES_CODES = {
    "57P01": "the database server is restarting",  # admin shutdown
    "57P02": "the database server is restarting",  # crash shutdown
    "57P03": "the database server is starting and not accepting connections yet",
    "57014": "the database took too long to answer",  # statement timeout
    "40001": "the database is busy with conflicting writes",  # serialization failure
    "40P01": "the database is busy with conflicting writes",  # deadlock
    "55P03": "the database is busy with conflicting writes",  # lock timeout
    "25006": "the database accepts no writes (it is read-only, a standby?)",
}
# SQLite primary result codes (https://sqlite.org/rescode.html).
SQLITE_CODES = {
    5: "the database is locked by another write",  # SQLITE_BUSY
    6: "the database is locked by another write",  # SQLITE_LOCKED
    7: "the database has run out of memory",  # SQLITE_NOMEM
    8: "the database file is read-only",  # SQLITE_READONLY
    10: "the database file cannot be read or written",  # SQLITE_IOERR
    13: "the database's disk is full",  # SQLITE_FULL
    14: "the database file cannot be opened",  # SQLITE_CANTOPEN
    15: "the database is locked by another write",  # SQLITE_PROTOCOL
}


def reason(exc: BaseException) -> str | None:
    """Why the database cannot serve now, or None when the error is not an outage."""
    if not isinstance(exc, Error):
        return None
    if isinstance(exc, InterfaceError):
        return DOWN  # the connection is gone
    cause = exc.__cause__  # the driver's own error (Django wraps it)
    sqlite_code = getattr(cause, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return SQLITE_CODES.get(sqlite_code & 0xFF)
    if not hasattr(cause, "sqlstate"):
        return None  # not a driver error we know
    sqlstate: str | None = getattr(cause, "sqlstate", None)
    if sqlstate is None:
        # psycopg raises OperationalError without a SQLSTATE when it cannot reach the server.
        return DOWN if isinstance(exc, OperationalError) else None
    return POSTGRES_CODES.get(sqlstate) or POSTGRES_CLASSES.get(sqlstate[:2])


def database_unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """The domain error (503, Retry-After) for a database outage; None for any other error."""
    why = reason(exc)
    if why is None:
        return None
    wait = settings.SERVIO_UNAVAILABLE_RETRY_AFTER_SECONDS
    return DatabaseUnavailable(
        f"The service is unavailable for a moment: {why}. Retry in {wait} seconds; if it keeps "
        "happening, tell an administrator.",
        retry_after=wait,
    )
