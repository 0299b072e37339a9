"""Celery mode (SERVIO_BROKER_URL set): workers and beat run the same handlers and jobs.

The outbox stays the source of truth: a broker message only says "look now", and beat drains
the outbox on a short period, so a lost broker message delays delivery but loses nothing.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servio.settings")

app = Celery("servio")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Several Servio instances (or test runs) can share one Redis: each needs its own queue.
if queue := os.environ.get("SERVIO_CELERY_QUEUE"):
    app.conf.task_default_queue = queue

DRAIN_EVERY = timedelta(seconds=5)


@app.task(name="servio.drain_outbox", ignore_result=True)
def drain_outbox() -> int:
    from servio.core import outbox

    return outbox.drain()


@app.task(name="servio.run_periodic", ignore_result=True)
def run_periodic(name: str) -> bool:
    from servio.core import jobs

    return jobs.run_if_due(name)


def queue_for(lane: str) -> str:
    """The queue of a lane of jobs: the main lane shares the default queue with the drains;
    another lane (mailbox polling) has its own, so its hung tasks never hold up delivery."""
    from servio.core.jobs import MAIN_LANE

    default = app.conf.task_default_queue
    return default if lane == MAIN_LANE else f"{default}.{lane}"


@app.on_after_finalize.connect
def _schedule(sender: Celery, **kwargs: Any) -> None:
    """Beat's schedule: a drain every few seconds, and each registered job at its period, sent
    to the queue of its lane."""
    import django
    from django.apps import apps

    if not apps.ready:  # `celery -A servio.celery ...` without manage.py
        django.setup()
    from servio.core import jobs

    sender.add_periodic_task(DRAIN_EVERY.total_seconds(), drain_outbox.s(), name="drain outbox")
    for job in jobs.registered_jobs():
        sender.add_periodic_task(
            job.every.total_seconds(),
            run_periodic.s(job.name),
            name=f"job {job.name}",
            queue=queue_for(job.lane),
        )


def _request_drain() -> None:
    """A named callback (not a lambda), so registering it twice registers it once."""
    drain_outbox.delay()


def enable_broker_wakeups() -> None:
    """After a commit that published events, ask a worker to drain now."""
    from servio.core import outbox

    outbox.on_wakeup(_request_drain)
