"""A first-come, first-served turn for the writers of one process on one SQLite file.

SQLite lets one writer at a time hold a database. A writer that finds it taken gets SQLITE_BUSY
and its busy handler sleeps and retries (1, 2, 5 ... 100 ms): the lock is often free long before
the sleepers wake, and whoever happens to wake first wins. Under eight concurrent requests that
made ticket creation wait 0.4-1.3 s at the 95th percentile, with the database idle most of the
time. Threads of one process instead queue here, in arrival order, and the next is woken the
moment the previous commits (decision 39). Other processes on the same file still meet the
busy handler, as before.
"""

from __future__ import annotations

import collections
import threading


class WriterQueue:
    """A lock handed to waiters in arrival order (a plain `threading.Lock` favours whoever asks
    right after a release, which starved the in-process runner behind the request threads)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: collections.deque[threading.Event] = collections.deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        """Wait for the turn up to `timeout` seconds; False if it did not come."""
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over while the wait timed out: the turn is ours
                return True
            self._waiting.remove(turn)
            return False

    def release(self) -> None:
        """Hand the turn to the longest waiter, or free it."""
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # stays held: ownership passes directly
            else:
                self._held = False

    @property
    def waiting(self) -> int:
        """How many are queued (for tests and diagnostics)."""
        return len(self._waiting)


_queues: dict[str, WriterQueue] = {}
_queues_mutex = threading.Lock()


def queue_for(name: str) -> WriterQueue:
    """The one queue of this process for the database file `name`."""
    with _queues_mutex:
        queue = _queues.get(name)
        if queue is None:
            queue = _queues[name] = WriterQueue()
        return queue
