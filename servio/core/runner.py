"""The in-process runner of the embedded default: drains the outbox and runs periodic jobs."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from servio.core import jobs, outbox

log = logging.getLogger(__name__)


class Runner:
    """A daemon thread: deliver due outbox rows, run due jobs, sleep until woken or the poll.

    Nothing is held in memory between ticks: the outbox and JobState tables are the queue, so
    a runner killed at any point loses nothing; rows it had leased are delivered by the next
    runner once the lease (SERVIO_OUTBOX_LEASE_SECONDS) has run out.
    """

    def __init__(self, *, poll_seconds: float | None = None, run_jobs: bool = True) -> None:
        self.poll_seconds = (
            settings.SERVIO_RUNNER_POLL_SECONDS if poll_seconds is None else poll_seconds
        )
        self.run_jobs = run_jobs
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Runner:
        outbox.load_extra_modules()
        outbox.on_wakeup(self._wake.set)
        self._thread = threading.Thread(target=self._loop, name="servio-runner", daemon=True)
        self._thread.start()
        log.info("background runner started (poll every %ss)", self.poll_seconds)
        return self

    def stop(self, timeout: float = 10) -> None:
        """Finish the current tick and stop; publishes no longer wake this runner."""
        outbox.off_wakeup(self._wake.set)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def tick(self) -> None:
        outbox.drain()
        if self.run_jobs:
            jobs.run_due_jobs()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                close_old_connections()
                self.tick()
            except Exception:
                log.exception("background runner tick failed; retrying after the poll interval")
            finally:
                close_old_connections()
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
        connection.close()  # this thread's own connection; nothing else will close it
