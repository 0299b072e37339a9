"""Periodic jobs, registered in one place and run by the in-process runner or Celery beat."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from servio.core.models import JobState
from servio.core.outbox import load_extra_modules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """A registered job: its stable name, how often it runs and what it calls."""

    name: str
    every: timedelta
    func: Callable[[], object]


JOBS: dict[str, PeriodicJob] = {}


def periodic(
    name: str, *, every: timedelta
) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Register `func` to run about every `every`; at most one process runs it at a time."""

    def decorator(func: Callable[[], object]) -> Callable[[], object]:
        JOBS[name] = PeriodicJob(name, every, func)
        return func

    return decorator


def registered_jobs() -> list[PeriodicJob]:
    """Every registered job, including those of SERVIO_EXTRA_HANDLER_MODULES."""
    load_extra_modules()
    return list(JOBS.values())


def _claim(job: PeriodicJob, now: datetime, *, early: timedelta = timedelta(0)) -> bool:
    """Move next_run_at forward if it is due; only the process whose update wins runs the job.

    `early` accepts a call that arrives a little before the due time (see `run_if_due`).
    """
    JobState.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    with transaction.atomic():
        won = JobState.objects.filter(name=job.name, next_run_at__lte=now + early).update(
            next_run_at=now + job.every, last_started_at=now, runs=F("runs") + 1
        )
    return won == 1


def run_job(name: str) -> None:
    """Run one job now and record how it went (a failure is kept, not raised)."""
    job = JOBS[name]
    try:
        job.func()
    except Exception as exc:
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
        JobState.objects.filter(name=name).update(
            last_finished_at=timezone.now(), last_error=error, failures=F("failures") + 1
        )
        log.exception("periodic job %s failed", name)
        return
    JobState.objects.filter(name=name).update(last_finished_at=timezone.now(), last_error="")


def run_due_jobs(now: datetime | None = None) -> list[str]:
    """Run every job whose time has come; returns the names that ran."""
    now = now or timezone.now()
    ran = []
    for job in registered_jobs():
        if _claim(job, now):
            run_job(job.name)
            ran.append(job.name)
    return ran


def run_if_due(name: str, now: datetime | None = None) -> bool:
    """Celery beat entry point: run the job unless another process already ran it this period.

    Beat sends the task every `every`, but the previous run claimed its period a little after
    its own send, so the next call may arrive a few milliseconds "early". Accepting calls up to
    half a period early keeps that jitter from skipping whole periods, while a duplicate call
    (two beats, a redelivered message) in the same period still runs nothing.
    """
    registered_jobs()
    job = JOBS[name]
    if _claim(job, now or timezone.now(), early=job.every / 2):
        run_job(name)
        return True
    return False
