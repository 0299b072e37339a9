"""Fixtures for the outbox, job and runner tests: live processes on a shared database (the
isolated registries are in tests/conftest.py)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

REPO = Path(__file__).resolve().parents[2]
# The names live_handlers.py registers. Not imported from there: importing it would register its
# handler and job in this process, where every other test would see them.
HANDLER = "tests.live.record"
JOB = "tests.live.tick"


@dataclass
class Live:
    """A database that subprocesses share with the test, and the processes started on it.

    The test reads results with plain SQL: through its own connection on PostgreSQL (the same
    test database), with `sqlite3` on the SQLite file. No Django process per poll.
    """

    env: dict[str, str]
    tmp: Path
    sqlite_path: Path | None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def trace_path(self) -> Path:
        return Path(self.env["SERVIO_LIVE_LOG"])

    def probe(self, *args: str, env: dict[str, str] | None = None) -> Any:
        """Run `python -m tests.core.live ...` to completion and return its JSON answer."""
        done = subprocess.run(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "tests.core.live", *args],
            cwd=REPO,
            env={**self.env, **(env or {})},
            capture_output=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"live probe {args} failed:\n{done.stderr.decode()[-3000:]}")
        return json.loads(done.stdout)

    def start(
        self, *args: str, module: str = "servio.cli", env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start `python -m servio.cli ...` in its own process group, output to a log file."""
        log = (self.tmp / f"proc-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", module, *args],
            cwd=REPO,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        return process

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read query (with %s placeholders) against the live database."""
        if self.sqlite_path is None:
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        with closing(sqlite3.connect(self.sqlite_path, timeout=20)) as db:
            return db.execute(sql.replace("%s", "?"), tuple(params)).fetchall()

    def status(self) -> dict[str, Any]:
        """Rows of the test handler, effect counts by event id, and the test job's state."""
        rows = self.query(
            "SELECT id, event_id, status, attempts, last_error FROM core_outboxmessage "
            "WHERE handler = %s ORDER BY id",
            [HANDLER],
        )
        effects = self.query(
            f"SELECT event_id, COUNT(*) FROM {self.env['SERVIO_LIVE_TABLE']} GROUP BY event_id"
        )
        jobs_ = self.query(
            "SELECT name, runs, failures, last_error FROM core_jobstate WHERE name = %s", [JOB]
        )
        return {
            "rows": [
                {
                    "id": id_,
                    "event_id": str(uuid.UUID(str(event_id))),  # SQLite keeps 32 hex digits
                    "status": status,
                    "attempts": attempts,
                    "last_error": last_error,
                }
                for id_, event_id, status, attempts, last_error in rows
            ],
            "effects": {event_id: count for event_id, count in effects},
            "jobs": {
                name: {"runs": runs, "failures": failures, "error": error}
                for name, runs, failures, error in jobs_
            },
        }

    def all_delivered(self) -> dict[str, Any] | None:
        """The status once there are rows and every one is delivered, else None."""
        status = self.status()
        rows = status["rows"]
        return status if rows and all(row["status"] == "delivered" for row in rows) else None

    def wait_for(
        self,
        condition: Callable[[], Any],
        *,
        running: subprocess.Popen[bytes],
        timeout: float,
        what: str,
        every: float = 0.05,
    ) -> Any:
        """`wait_for`, failing at once with its output if `running` exits meanwhile."""

        def check() -> Any:
            if running.poll() is not None:
                raise AssertionError(
                    f"process exited ({running.returncode}) while waiting for {what}:\n"
                    + self.output(running)[-3000:]
                )
            return condition()

        return wait_for(check, timeout=timeout, what=what, every=every)

    def output(self, process: subprocess.Popen[bytes]) -> str:
        return (self.tmp / f"proc-{self.processes.index(process)}.log").read_text(errors="replace")

    def traces(self, kind: str) -> list[list[str]]:
        """Trace lines of one kind ("start" or "job"), without the kind word."""
        if not self.trace_path.exists():
            return []
        lines = self.trace_path.read_text().splitlines()
        return [line.split()[1:] for line in lines if line.split()[:1] == [kind]]

    def stop(self, process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        """Signal the process group we started (a Celery worker has children) and wait."""
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)

    def stop_all(self) -> None:
        for process in self.processes:
            self.stop(process)


def wait_for(
    condition: Callable[[], Any], *, timeout: float, what: str, every: float = 0.05
) -> Any:
    """Poll `condition` until it returns something truthy; fail saying what we waited for."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def _postgres_url(params: dict[str, Any]) -> str:
    user = quote(params.get("USER") or "")
    password = params.get("PASSWORD")
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = params.get("HOST") or "127.0.0.1"
    port = f":{params['PORT']}" if params.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(params['NAME'])}"


def _subprocess_env(tmp: Path, database_url: str) -> dict[str, str]:
    """This interpreter's environment without Servio/Django settings, plus the test's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SERVIO_", "CELERY_", "DJANGO_"))
    }
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="servio.settings",
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
        SERVIO_VAR_DIR=str(tmp / "var"),
        XDG_RUNTIME_DIR=str(tmp),  # gunicorn's control socket: not one shared ~/.gunicorn
        SERVIO_SECRET_KEY="live-test-only",
        SERVIO_LOG_LEVEL="WARNING",
    )
    return env


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per test session (and xdist worker), copied by each test."""
    tmp = tmp_path_factory.mktemp("live-template")
    path = tmp / "template.sqlite3"
    subprocess.run(
        [sys.executable, "-m", "servio.cli", "migrate", "--verbosity=0"],
        cwd=REPO,
        env=_subprocess_env(tmp, f"sqlite:///{path}"),
        check=True,
        timeout=120,
    )
    return path


@pytest.fixture
def live(transactional_db: None, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    """A live database for subprocesses: the PostgreSQL test database (committed data) when
    the suite runs on PostgreSQL, else a migrated SQLite file of this test's own.

    `transactional_db` is a parameter, not requested later: pytest-django creates the test
    database only for tests that name a database fixture, and would otherwise leave this test
    on the configured (real) database.
    """
    from django.db import connection

    sqlite_path: Path | None = None
    if connection.vendor == "postgresql":
        # Ask the server where this test's queries really go, and never hand subprocesses a
        # database that is not a test database (they run jobs and drain every pending row).
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_database()")
            (name,) = cursor.fetchone()
        assert name.startswith("test_"), f"refusing to point subprocesses at {name!r}"
        url = _postgres_url({**connection.settings_dict, "NAME": name})
    else:
        sqlite_path = tmp_path / "live.sqlite3"
        template = request.getfixturevalue("_sqlite_template")
        with closing(sqlite3.connect(template)) as src, closing(sqlite3.connect(sqlite_path)) as to:
            src.backup(to)
        url = f"sqlite:///{sqlite_path}"
    env = _subprocess_env(tmp_path, url)
    env.update(
        SERVIO_LIVE_LOG=str(tmp_path / "trace.log"),
        SERVIO_LIVE_TABLE=f"tests_live_effect_{uuid.uuid4().hex[:12]}",
        SERVIO_EXTRA_HANDLER_MODULES="tests.core.live_handlers",
        SERVIO_OUTBOX_LEASE_SECONDS="2",
        SERVIO_OUTBOX_RETRY_BASE_SECONDS="1",
        SERVIO_RUNNER_POLL_SECONDS="0.2",
    )
    live = Live(env=env, tmp=tmp_path, sqlite_path=sqlite_path)
    try:
        yield live
    finally:
        live.stop_all()
        if sqlite_path is None:  # not a model: the flush would keep it
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {env['SERVIO_LIVE_TABLE']}")
