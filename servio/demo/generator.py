"""Bulk generation of realistic tickets (`servio generate`) and the batch planner of the demo."""

from __future__ import annotations

import contextlib
import gc
import math
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from servio.accounts.models import User
from servio.audit.models import AuditEvent, AuditHead, AuditSeal
from servio.demo.bulk import write_plans
from servio.demo.directory import ensure_directory, load_directory
from servio.demo.stories import KINDS, Desk, Plan
from servio.demo.tables import analyze
from servio.tickets.models import Comment, Ticket

MAJOR_RATE = 1 / 2500  # one major incident per this many incidents
NEWEST = timedelta(minutes=5)  # nothing is generated closer to now than this


def sample_times(rng: random.Random, start: datetime, end: datetime, count: int) -> list[datetime]:
    """`count` sorted moments in [start, end), busiest in office hours on weekdays (UTC)."""
    span = (end - start).total_seconds()
    base = start.timestamp()
    out: list[float] = []
    while len(out) < count:
        x = base + rng.random() * span
        day, second = divmod(x, 86400.0)
        weekday = (int(day) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
        hour = second / 3600.0
        if weekday >= 5:
            weight = 0.12
        elif 8 <= hour < 18:
            weight = 1.0
        elif 6 <= hour < 21:
            weight = 0.25
        else:
            weight = 0.05
        if rng.random() < weight:
            out.append(x)
    out.sort()
    tz = start.tzinfo
    return [datetime.fromtimestamp(x, tz) for x in out]


def plan_batch(
    desk: Desk,
    times: list[datetime],
    *,
    kinds: list[str] | None = None,
    majors: list[tuple[int, int, str | None]] | None = None,
    forced: dict[int, dict] | None = None,
) -> list[Plan]:
    """Plan one ticket per moment, in creation order.

    `majors`: (index of the major incident, how many following incidents may join it, final);
    `forced`: index -> keyword arguments for `Desk.plan` (final state, requester, assignee).
    """
    kinds = kinds or ["incident"] * len(times)
    forced = forced or {}
    taken: set[int] = set(forced)
    plans: list[Plan] = []
    for index, size, final in majors or []:
        if index in taken:
            continue
        joined = []
        j = index + 1
        while len(joined) < size and j < len(times):
            if j not in taken and kinds[j] == "incident":
                joined.append(j)
            j += 1
        group = desk.plan_major(times[index], [times[j] for j in joined], final=final)
        taken.add(index)
        taken.update(joined[: len(group) - 1])
        plans.extend(group)
    for i, when in enumerate(times):
        if i in forced:
            plans.append(desk.plan(when, kind=kinds[i], **forced[i]))
        elif i not in taken:
            plans.append(desk.plan(when, kind=kinds[i]))
    plans.sort(key=lambda p: p.created_at)
    return plans


def new_desk(*, seed: int, now: datetime | None = None) -> Desk:
    return Desk(
        load_directory(),
        now=now or timezone.now(),
        seed=seed,
        autoclose_days=settings.SERVIO_INCIDENT_AUTOCLOSE_DAYS,
        reopen_days=settings.SERVIO_INCIDENT_REOPEN_DAYS,
    )


@dataclass
class GenerateSummary:
    tickets: int
    comments: int
    events: int
    seconds: float


def generate(
    *,
    tickets: int,
    batch: int = 10_000,
    seed: int = 0,
    days: int = 730,
    password: str | None = None,
    tick: Callable[[int], None] | None = None,
) -> GenerateSummary:
    """Bulk-load `tickets` tickets created over the last `days` days, oldest batch first.

    On PostgreSQL, outside a transaction, a writer thread with its own connection writes batch
    k while this thread plans batch k+1, so Python and the database work at the same time.
    """
    started = time.monotonic()
    requesters = max(200, min(10_000, tickets // 100))
    ensure_directory(password=password, requesters=requesters, seed=seed)
    now = timezone.now()
    desk = new_desk(seed=seed, now=now)
    rng = random.Random(seed + 1)  # noqa: S311 - generated data, not secrets
    end = now - NEWEST
    start = end - timedelta(days=days)
    batches = max(1, math.ceil(tickets / batch))
    width = (end - start) / batches

    def planned():
        done = 0
        for b in range(batches):
            count = min(batch, tickets - done)
            if count <= 0:
                return
            done += count
            times = sample_times(rng, start + b * width, start + (b + 1) * width, count)
            kinds = [KINDS.pick(rng) for _ in times]
            majors = [
                (i, rng.randint(3, 12), None)
                for i in range(count)
                if kinds[i] == "incident" and rng.random() < MAJOR_RATE
            ]
            yield plan_batch(desk, times, kinds=kinds, majors=majors)

    totals = {"tickets": 0, "comments": 0, "events": 0}

    def write(plans) -> None:
        written = write_plans(plans, tick=tick)
        for key in totals:
            totals[key] += written[key]

    with without_gc():
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            _pipelined(planned(), write)
        else:
            for plans in planned():
                write(plans)
    analyze([Ticket, Comment, AuditEvent, AuditSeal, AuditHead, User])
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA optimize")
    return GenerateSummary(seconds=time.monotonic() - started, **totals)


@contextlib.contextmanager
def without_gc():
    """No cyclic garbage collection while planning: the batches are large graphs of acyclic
    objects, and each collection would walk them all (it halves the planning time)."""
    was_enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.unfreeze()


def _pipelined(batches, write: Callable[[list[Plan]], None]) -> None:
    """Plan here, write in a thread (its own database connection); errors stop both."""
    handoff: queue.Queue = queue.Queue(maxsize=1)
    failure: list[BaseException] = []

    def writer() -> None:
        try:
            while (plans := handoff.get()) is not None:
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        # A crash loses at most the batch in flight, which is rerun anyway.
                        cursor.execute("SET LOCAL synchronous_commit = off")
                    write(plans)
        except BaseException as exc:
            failure.append(exc)
            while handoff.get() is not None:  # let the planner finish putting
                pass
        finally:
            connection.close()

    thread = threading.Thread(target=writer, name="servio-generate-writer", daemon=True)
    thread.start()
    try:
        for plans in batches:
            if failure:
                break
            handoff.put(plans)
    finally:
        handoff.put(None)
        thread.join()
    if failure:
        raise failure[0]
