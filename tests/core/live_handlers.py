"""A handler and a periodic job for the subprocess tests; loaded via SERVIO_EXTRA_HANDLER_MODULES.

Never imported by the pytest process itself, so the registrations stay out of the other tests.
Each call leaves a trace line (`SERVIO_LIVE_LOG`) when it starts, and the handler's effect is a
row in the test's own table (`SERVIO_LIVE_TABLE`) written in the delivery transaction: a test
counts both to tell "started again after a crash" (at-least-once) from "applied twice" (never).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from django.db import connection

from servio.core.jobs import periodic
from servio.core.outbox import Event, handler

TOPIC = "live.work"
HANDLER = "tests.live.record"
JOB = "tests.live.tick"
LANE_JOB = "tests.live.side_tick"


def effect_table() -> str:
    """This test's effect table; a name of its own, so concurrent test sessions never meet."""
    name = os.environ["SERVIO_LIVE_TABLE"]
    if not name.isidentifier():
        raise ValueError(f"bad table name {name!r}")
    return name


def trace(*words: object) -> None:
    """Append one line to the trace file; O_APPEND keeps lines whole across processes."""
    line = " ".join(str(word) for word in words) + "\n"
    fd = os.open(os.environ["SERVIO_LIVE_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@handler(TOPIC, name=HANDLER)
def record(event: Event) -> None:
    trace("start", event.id, os.getpid())
    # The effect first, then the wait: a runner killed while waiting has written the effect but
    # not committed it, which is exactly what delivery must roll back.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {effect_table()} (event_id, pid) VALUES (%s, %s)",
            [str(event.id), os.getpid()],
        )
    gate = event.payload.get("gate")
    deadline = time.monotonic() + 60
    while gate and os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.02)  # held here until the test removes the gate (or kills us)


@periodic(JOB, every=timedelta(seconds=1))
def tick() -> None:
    trace("job", JOB, os.getpid())


@periodic(LANE_JOB, every=timedelta(seconds=1), lane="side")
def side_tick() -> None:
    """A job of a lane of its own: run by its own runner thread, or from its own Celery queue."""
    trace("lane", LANE_JOB, os.getpid())
