"""The SQLite writer queue (decision 39): writers of one process take turns in arrival order,
wait no longer than the busy timeout, and a timeout reads as the database being locked."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connection, connections

from servio.core import outages
from servio.core.sqlite.writers import WriterQueue, queue_for
from tests.sqlite_files import file_copy_of_the_test_database

SQLITE_ONLY = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the writer queue is part of the SQLite backend"
)


def _wait_until(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def test_the_turn_passes_in_arrival_order():
    queue = WriterQueue()
    assert queue.acquire(1)
    order: list[int] = []

    def writer(n: int) -> None:
        assert queue.acquire(10)
        order.append(n)
        queue.release()

    threads = []
    for n in range(5):
        thread = threading.Thread(target=writer, args=(n,))
        thread.start()
        threads.append(thread)
        _wait_until(lambda n=n: queue.waiting == n + 1)  # queued before the next one asks
    queue.release()
    for thread in threads:
        thread.join(10)
    assert order == [0, 1, 2, 3, 4]
    assert queue.waiting == 0
    assert queue.acquire(0)  # free again once everyone had a turn
    queue.release()


def test_a_waiter_that_times_out_leaves_the_line():
    queue = WriterQueue()
    assert queue.acquire(1)
    got: list[bool] = []
    thread = threading.Thread(target=lambda: got.append(queue.acquire(0.05)))
    thread.start()
    thread.join(5)
    assert got == [False]
    assert queue.waiting == 0
    queue.release()
    assert queue.acquire(0), "the turn must be free: the timed-out waiter may not hold it"
    queue.release()


def test_one_queue_per_database_file():
    assert queue_for("/a.sqlite3") is queue_for("/a.sqlite3")
    assert queue_for("/a.sqlite3") is not queue_for("/b.sqlite3")


@pytest.fixture
def shared_file(transactional_db, tmp_path: Path):
    """The test database copied to a file that threads open with the configured backend."""
    path = file_copy_of_the_test_database(tmp_path / "writers.sqlite3")
    backend = type(connections["default"])

    def open_connection(*, timeout: float = 20):
        options = {**connections.settings["default"]["OPTIONS"], "timeout": timeout}
        return backend(
            {**connections.settings["default"], "NAME": str(path), "OPTIONS": options},
            "default",
        )

    return path, open_connection


@SQLITE_ONLY
def test_a_write_outside_a_transaction_waits_for_the_open_transaction(shared_file):
    path, open_connection = shared_file
    holder = open_connection()
    queue = queue_for(str(path))
    from django.db import transaction

    finished = threading.Event()

    def write() -> None:
        writer = open_connection()  # a connection belongs to the thread that made it
        with writer.cursor() as cursor:
            cursor.execute("UPDATE tickets_numbercounter SET last = last")
        writer.close()
        finished.set()

    own = connections["default"]  # kept: the in-memory test database lives with it
    connections["default"] = holder
    try:
        with transaction.atomic(using="default"):
            holder.cursor().execute("UPDATE tickets_numbercounter SET last = last")
            thread = threading.Thread(target=write)
            thread.start()
            _wait_until(lambda: queue.waiting == 1)  # queued, not spinning in the busy handler
            assert not finished.is_set()
        thread.join(10)
        assert finished.is_set()
        assert queue.waiting == 0
    finally:
        holder.close()
        connections["default"] = own


@SQLITE_ONLY
def test_no_turn_within_the_timeout_is_a_locked_database(shared_file):
    path, open_connection = shared_file
    queue = queue_for(str(path))
    impatient = open_connection(timeout=0.1)
    writing = threading.Event()
    done = threading.Event()

    def other_writer() -> None:  # another thread of this process holds the turn
        assert queue.acquire(1)
        writing.set()
        done.wait(10)
        queue.release()

    thread = threading.Thread(target=other_writer)
    thread.start()
    writing.wait(10)
    try:
        with pytest.raises(OperationalError) as caught, impatient.cursor() as cursor:
            cursor.execute("UPDATE tickets_numbercounter SET last = last")
    finally:
        done.set()
        thread.join(10)
        impatient.close()
    assert outages.reason(caught.value) == "the database is locked by another write"
    assert queue.waiting == 0


@SQLITE_ONLY
def test_reads_take_no_turn(shared_file):
    path, open_connection = shared_file
    queue = queue_for(str(path))
    reader = open_connection(timeout=0.1)
    assert queue.acquire(1)
    try:
        with reader.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tickets_ticket")
            assert cursor.fetchone()[0] >= 0
    finally:
        queue.release()
        reader.close()


@SQLITE_ONLY
def test_every_writer_gets_its_turn_under_steady_load(shared_file):
    """Four threads writing in transactions back to back do not starve a fifth that writes
    one statement at a time (what the runner's lease updates do)."""
    _, open_connection = shared_file
    from django.db import transaction

    stop = threading.Event()
    errors: list[BaseException] = []
    single_writes: list[float] = []

    def busy() -> None:
        connections["default"] = open_connection()
        try:
            while not stop.is_set():
                with transaction.atomic():
                    connections["default"].cursor().execute(
                        "UPDATE tickets_numbercounter SET last = last"
                    )
                    time.sleep(0.002)  # some work while holding the turn
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections["default"].close()

    def single() -> None:
        connections["default"] = own = open_connection(timeout=5)
        try:
            for _ in range(20):
                started = time.monotonic()
                own.cursor().execute("UPDATE tickets_numbercounter SET last = last")
                single_writes.append(time.monotonic() - started)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=busy) for _ in range(4)]
    for thread in threads:
        thread.start()
    lone = threading.Thread(target=single)
    lone.start()
    lone.join(60)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(single_writes) == 20
    # In line behind at most the four others: far below the 5 s it would take to give up.
    assert max(single_writes) < 2, single_writes
