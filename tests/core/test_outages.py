"""Which database errors are outages (503, retry) and which are faults (500): errors raised by the
real drivers, wrapped by Django as it wraps them for every query.

The outages themselves (a PostgreSQL restart, a locked SQLite file) are drilled end to end in
tests/api/test_outages.py; here each kind of driver error is classified, quickly, on every leg.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

import psycopg
import pytest
from django.db import InterfaceError, OperationalError

from servio.core import outages
from servio.core.errors import DatabaseUnavailable
from tests.drills import free_port, sqlite_locked, wrapped


def sqlite_missing_directory(tmp_path) -> None:
    sqlite3.connect(tmp_path / "no-such-directory" / "x.sqlite3")


def sqlite_missing_table(tmp_path) -> None:
    with closing(sqlite3.connect(":memory:")) as db:
        db.execute("SELECT * FROM nowhere")


def postgres_refused(tmp_path) -> None:
    psycopg.connect(host="127.0.0.1", port=free_port(), user="postgres", connect_timeout=2)


@pytest.mark.parametrize(
    ("driver", "action", "why"),
    [
        (sqlite3, sqlite_locked, "the database is locked by another write"),
        (sqlite3, sqlite_missing_directory, "the database file cannot be opened"),
        (psycopg, postgres_refused, "the database server does not answer"),
        (sqlite3, sqlite_missing_table, None),  # our fault (a migration not run): a 500
    ],
)
def test_driver_errors_are_classified(tmp_path, driver, action, why):
    error = wrapped(driver, lambda: action(tmp_path))
    assert outages.reason(error) == why
    unavailable = outages.database_unavailable(error)
    if why is None:
        assert unavailable is None
    else:
        assert isinstance(error, OperationalError)
        assert isinstance(unavailable, DatabaseUnavailable) and unavailable.status == 503
        assert why in unavailable.detail and unavailable.retry_after > 0


def test_a_closed_connection_is_an_outage():
    assert outages.reason(InterfaceError("connection already closed")) == outages.DOWN


def test_errors_that_are_not_from_the_database_are_not_outages():
    assert outages.reason(ValueError("x")) is None
    assert outages.reason(OperationalError("no driver error behind it")) is None
