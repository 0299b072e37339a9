"""Database outages, for real (tests/drills.py): a PostgreSQL server of the test's own stopped
and restarted under a running Servio, and a SQLite file locked by another writer.

During an outage the API answers 503 problem+json with Retry-After, pages a 503 page, /health 503
with the reason; after a restart the first request succeeds (health checks replace the pooled
connection the restart killed).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.drills import Answer, ServioServer, servio_server, throwaway_postgres

pytestmark = pytest.mark.slow
PROBLEM = "application/problem+json"
GARBAGE_SESSION = {"Cookie": "sessionid=drill-session-that-does-not-exist"}


def assert_unavailable(answer: Answer, *, problem: bool = True) -> None:
    assert answer.status == 503, answer.text
    assert int(answer.headers["Retry-After"]) > 0
    if problem:
        assert answer.headers["Content-Type"].startswith(PROBLEM), answer.headers
        body = answer.json()
        assert body["status"] == 503 and body["type"].endswith("/database_unavailable"), body
        assert "Retry in" in body["detail"] and "administrator" in body["detail"]


@pytest.fixture(scope="module")
def postgres_drill(tmp_path_factory) -> Iterator[tuple]:
    """A throwaway PostgreSQL server and a Servio server on it, shared by the module's tests."""
    with throwaway_postgres() as database:
        tmp = tmp_path_factory.mktemp("postgres-drill")
        with servio_server(tmp, database.url) as server:
            yield database, server


def test_the_first_request_after_a_postgresql_restart_succeeds(postgres_drill):
    database, server = postgres_drill
    assert server.request("GET", "/api/v1/me").status == 200  # the worker's pooled connection
    database.restart()  # the server kills that connection; nothing uses it meanwhile
    after = server.request("GET", "/api/v1/me")
    assert after.status == 200, after.text
    assert server.request("GET", "/api/v1/health").status == 200


def test_while_postgresql_is_down_every_answer_is_503_with_retry_after(postgres_drill):
    database, server = postgres_drill
    assert server.request("GET", "/api/v1/me").status == 200
    key = {"Idempotency-Key": "drill-token-1"}
    database.stop()
    try:
        assert_unavailable(server.request("GET", "/api/v1/me"))
        assert_unavailable(server.request("GET", "/api/v1/tickets"))
        write = server.request("POST", "/api/v1/me/tokens", json_body={"name": "x"}, headers=key)
        assert_unavailable(write)
        page = server.request("GET", "/", auth=False, headers=GARBAGE_SESSION)
        assert_unavailable(page, problem=False)
        assert "unavailable for a moment" in page.text and "database" in page.text
        health = server.request("GET", "/api/v1/health", auth=False)
        assert health.status == 503 and int(health.headers["Retry-After"]) > 0
        assert health.json()["database"] == "unreachable"
        assert "does not answer" in health.json()["reason"]
    finally:
        database.start()
    assert server.request("GET", "/api/v1/me").status == 200
    # The 503 stored nothing under the key: the retry runs.
    retry = server.request("POST", "/api/v1/me/tokens", json_body={"name": "x"}, headers=key)
    assert retry.status == 201 and "Idempotent-Replayed" not in retry.headers
    assert server.request("GET", "/", auth=False, headers=GARBAGE_SESSION).status == 200


@pytest.fixture
def sqlite_drill(tmp_path) -> Iterator[tuple[Path, ServioServer]]:
    path = tmp_path / "drill.sqlite3"
    with servio_server(
        tmp_path, f"sqlite:///{path}", SERVIO_SQLITE_BUSY_TIMEOUT_SECONDS="1"
    ) as server:
        yield path, server


def test_a_locked_sqlite_database_is_503_with_retry_after(sqlite_drill):
    path, server = sqlite_drill
    assert server.request("GET", "/api/v1/me").status == 200  # notes the token's use (a write)
    with closing(sqlite3.connect(path, isolation_level=None)) as other_writer:
        other_writer.execute("BEGIN IMMEDIATE")  # holds the write lock, as a long write does
        try:
            locked = server.request("POST", "/api/v1/me/tokens", json_body={"name": "locked"})
            assert_unavailable(locked)
            assert "locked by another write" in locked.json()["detail"]
            assert server.request("GET", "/api/v1/me").status == 200  # readers go on (WAL)
        finally:
            other_writer.execute("ROLLBACK")
    assert server.request("POST", "/api/v1/me/tokens", json_body={"name": "free"}).status == 201
