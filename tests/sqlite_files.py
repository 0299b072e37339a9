"""The in-memory SQLite test database as a file, for tests whose threads must share it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from django.db import connection


def file_copy_of_the_test_database(path: Path) -> Path:
    """Copy the in-memory test database to `path` (WAL mode) and return it: an in-memory
    database cannot be shared between threads the way a deployment shares its file."""
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    return path
