"""Django's SQLite backend, with the writers of one process taking turns in arrival order.

A write transaction (`BEGIN IMMEDIATE`, which every atomic block opens on SQLite) first waits
for its turn in the process's writer queue of that database file and gives the turn back when it
commits or rolls back; a write statement outside a transaction holds the turn while it runs.
Reads take no turn (WAL lets them run beside the writer). Why: `servio.core.sqlite.writers`.
"""

from __future__ import annotations

import sqlite3

from django.db.backends.sqlite3 import base

from servio.core.sqlite.writers import WriterQueue, queue_for

# Statements that never write; anything else outside a transaction takes a turn.
READS = frozenset({"SELECT", "PRAGMA", "EXPLAIN"})


def _writes(sql: str) -> bool:
    head = sql.lstrip()[:8].split(None, 1)
    return not head or head[0].upper() not in READS


class DatabaseWrapper(base.DatabaseWrapper):
    """SQLite with a fair writer queue per database file and process."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._has_turn = False
        self.execute_wrappers.append(self._write_in_turn)

    @property
    def writers(self) -> WriterQueue:
        return queue_for(str(self.settings_dict["NAME"]))

    def _take_turn(self) -> None:
        if self._has_turn:
            return
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        if not self.writers.acquire(timeout):
            # The same error SQLite gives when its own busy timeout runs out, so callers (and
            # the 503 of servio.core.outages) treat both alike.
            busy = sqlite3.OperationalError(
                f"database is locked: no turn to write within {timeout:g} s"
            )
            busy.sqlite_errorcode = 5  # type: ignore[attr-defined]  # SQLITE_BUSY
            with self.wrap_database_errors:
                raise busy
        self._has_turn = True

    def _end_turn(self) -> None:
        if self._has_turn:
            self._has_turn = False
            self.writers.release()

    def _start_transaction_under_autocommit(self) -> None:
        self._take_turn()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # not in the stubs
        except BaseException:
            self._end_turn()
            raise

    def _commit(self):
        try:
            return super()._commit()  # type: ignore[misc]  # not in the stubs
        finally:
            self._end_turn()

    def _rollback(self):
        try:
            return super()._rollback()  # type: ignore[misc]  # not in the stubs
        finally:
            self._end_turn()

    def _close(self):
        try:
            return super()._close()  # type: ignore[misc]  # not in the stubs
        finally:
            self._end_turn()

    def _write_in_turn(self, execute, sql, params, many, context):
        """Outside a transaction, hold the turn for the one write statement."""
        if self._has_turn or self.in_atomic_block or not _writes(sql):
            return execute(sql, params, many, context)
        self._take_turn()
        try:
            return execute(sql, params, many, context)
        finally:
            self._end_turn()
