"""The in-process runner of the embedded default: drains the outbox and runs periodic jobs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connection

from servio.core import jobs, outbox

log = logging.getLogger(__name__)


class Runner:
    """Daemon threads: one delivers due outbox rows and runs the main lane's jobs, sleeping until
    a commit wakes it or the poll passes; each other lane of jobs (mailbox polling) has a thread
    of its own, so a hung server there delays neither delivery nor the other jobs.

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
        self._threads: list[threading.Thread] = []
        self._wakes: list[threading.Event] = []

    @property
    def _thread(self) -> threading.Thread | None:
        """The main thread (delivery and the main lane)."""
        return self._threads[0] if self._threads else None

    def start(self) -> Runner:
        outbox.load_extra_modules()
        outbox.on_wakeup(self._wake.set)
        self._spawn("servio-runner", self.tick, self._wake)
        if self.run_jobs:
            for lane in jobs.lanes()[1:]:
                self._spawn(f"servio-runner-{lane}", self._lane_tick(lane), threading.Event())
        log.info(
            "background runner started (poll every %ss, %s thread(s))",
            self.poll_seconds,
            len(self._threads),
        )
        return self

    def stop(self, timeout: float = 10) -> None:
        """Finish the current ticks and stop; publishes no longer wake this runner."""
        outbox.off_wakeup(self._wake.set)
        self._stop.set()
        for wake in self._wakes:
            wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def tick(self) -> None:
        """Deliver what is due, then run the main lane's due jobs."""
        outbox.drain()
        if self.run_jobs:
            jobs.run_due_jobs(lane=jobs.MAIN_LANE)

    def _lane_tick(self, lane: str) -> Callable[[], object]:
        return lambda: jobs.run_due_jobs(lane=lane)

    def _spawn(self, name: str, tick: Callable[[], object], wake: threading.Event) -> None:
        thread = threading.Thread(target=self._loop, args=(tick, wake), name=name, daemon=True)
        self._threads.append(thread)
        self._wakes.append(wake)
        thread.start()

    def _loop(self, tick: Callable[[], object], wake: threading.Event) -> None:
        while not self._stop.is_set():
            try:
                close_old_connections()
                tick()
            except Exception:
                log.exception("background runner tick failed; retrying after the poll interval")
            finally:
                close_old_connections()
            wake.wait(self.poll_seconds)
            wake.clear()
        connection.close()  # this thread's own connection; nothing else will close it
