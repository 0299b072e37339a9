"""The in-process runner of the embedded default: drains the outbox and runs periodic jobs."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections

from servio.core import jobs, outbox

log = logging.getLogger(__name__)


class Runner:
    """A daemon thread: deliver due outbox rows, run due jobs, sleep until woken or the poll."""

    def __init__(self, *, poll_seconds: float | None = None, run_jobs: bool = True) -> None:
        self.poll_seconds = poll_seconds or settings.SERVIO_RUNNER_POLL_SECONDS
        self.run_jobs = run_jobs
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Runner:
        outbox.on_wakeup(self._wake.set)
        self._thread = threading.Thread(target=self._loop, name="servio-runner", daemon=True)
        self._thread.start()
        log.info("background runner started (poll every %ss)", self.poll_seconds)
        return self

    def stop(self, timeout: float = 10) -> None:
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
