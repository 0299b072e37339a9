"""Periodic jobs, registered in one place and run by the in-process runner or Celery beat.

A job that waits on other servers (mailbox polling) names its own `lane`: the runner gives each
lane a thread of its own and Celery a queue of its own, so a hung server delays only its lane,
never outbox delivery or the other jobs (decision 24).
"""

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


MAIN_LANE = "main"  # the runner's thread that also delivers the outbox


@dataclass(frozen=True)
class PeriodicJob:
    """A registered job: its stable name, how often it runs, what it calls, and its lane."""

    name: str
    every: timedelta
    func: Callable[[], object]
    lane: str = MAIN_LANE


JOBS: dict[str, PeriodicJob] = {}


def periodic(
    name: str, *, every: timedelta, lane: str = MAIN_LANE
) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Register `func` to run about every `every`; at most one process runs it at a time.

    Give a job that talks to other servers a `lane` of its own (e.g. "mail"), so that it never
    holds up the outbox and the jobs of the main lane.
    """
    if not lane.isidentifier():
        raise ValueError(f"A lane is a plain name (letters, digits, _), not {lane!r}.")

    def decorator(func: Callable[[], object]) -> Callable[[], object]:
        JOBS[name] = PeriodicJob(name, every, func, lane)
        return func

    return decorator


def registered_jobs(lane: str | None = None) -> list[PeriodicJob]:
    """Every registered job (of one lane, if given), with those of SERVIO_EXTRA_HANDLER_MODULES."""
    load_extra_modules()
    return [job for job in JOBS.values() if lane is None or job.lane == lane]


def lanes() -> list[str]:
    """The lanes of the registered jobs: the main lane first, then the others by name."""
    others = {job.lane for job in registered_jobs()} - {MAIN_LANE}
    return [MAIN_LANE, *sorted(others)]


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


def run_due_jobs(now: datetime | None = None, *, lane: str | None = None) -> list[str]:
    """Run every job (of `lane`, or of every lane) whose time has come; returns those that ran."""
    now = now or timezone.now()
    ran = []
    for job in registered_jobs(lane):
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
