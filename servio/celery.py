"""Celery mode (SERVIO_BROKER_URL set): workers and beat run the same handlers and jobs.

The outbox stays the source of truth: a broker message only says "look now", and beat drains
the outbox on a short period, so a lost broker message delays delivery but loses nothing.
"""

from __future__ import annotations

import os
from datetime import timedelta

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servio.settings")

app = Celery("servio")
app.config_from_object("django.conf:settings", namespace="CELERY")

DRAIN_EVERY = timedelta(seconds=5)


@app.task(name="servio.drain_outbox", ignore_result=True)
def drain_outbox() -> int:
    from servio.core import outbox

    return outbox.drain()


@app.task(name="servio.run_periodic", ignore_result=True)
def run_periodic(name: str) -> bool:
    from servio.core import jobs

    return jobs.run_if_due(name)


@app.on_after_finalize.connect
def _schedule(sender: Celery, **kwargs) -> None:
    import django

    django.setup()
    from servio.core import jobs

    sender.add_periodic_task(DRAIN_EVERY.total_seconds(), drain_outbox.s(), name="drain outbox")
    for job in jobs.JOBS.values():
        sender.add_periodic_task(
            job.every.total_seconds(), run_periodic.s(job.name), name=f"job {job.name}"
        )


def enable_broker_wakeups() -> None:
    """After a commit that published events, ask a worker to drain now."""
    from servio.core import outbox

    outbox.on_wakeup(lambda: drain_outbox.delay())
