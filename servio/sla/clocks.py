"""The clock arithmetic: start, pause, resume, stop, retarget and thresholds of one SlaClock.

Pure functions over a clock row and an instant; `services.sla_sync` decides which to call. A
running clock's business time is `elapsed_seconds` (banked before `running_since`) plus the
business time from `running_since` to now on the clock's calendar.
"""

from __future__ import annotations

from datetime import datetime

from servio.sla.calendar import add_business_seconds, business_seconds_between
from servio.sla.models import ClockState, SlaClock

BREACH = 100


def _cal(clock: SlaClock):
    return clock.calendar.engine()


def is_counting(clock: SlaClock) -> bool:
    return clock.stopped_at is None and clock.state in (ClockState.RUNNING, ClockState.BREACHED)


def elapsed_at(clock: SlaClock, at: datetime) -> float:
    """Business seconds used by `at`."""
    if is_counting(clock) and clock.running_since is not None and at > clock.running_since:
        return clock.elapsed_seconds + business_seconds_between(
            calendar=_cal(clock), start=clock.running_since, end=at
        )
    return clock.elapsed_seconds


def instant_of(clock: SlaClock, percent: float) -> datetime:
    """When a counting clock reaches `percent` of its target."""
    if clock.running_since is None:
        raise ValueError("Only a counting clock reaches thresholds.")
    need = max(0.0, clock.target_seconds * percent / 100 - clock.elapsed_seconds)
    return add_business_seconds(calendar=_cal(clock), start=clock.running_since, seconds=need)


def thresholds(clock: SlaClock) -> list[int]:
    levels = sorted({int(p) for p in clock.policy.warning_thresholds if 0 < int(p) < BREACH})
    return [*levels, BREACH]


def schedule(clock: SlaClock) -> None:
    """Recompute due time and the next unannounced threshold of a counting clock."""
    if not is_counting(clock):
        clock.next_threshold_at = None
        return
    clock.due_at = instant_of(clock, BREACH)
    pending = [p for p in thresholds(clock) if p not in clock.fired]
    clock.next_threshold_at = instant_of(clock, pending[0]) if pending else None


def start(clock: SlaClock, at: datetime) -> None:
    clock.state = ClockState.RUNNING
    clock.started_at = at
    clock.running_since = at
    clock.elapsed_seconds = 0.0
    schedule(clock)


def pause(clock: SlaClock, at: datetime) -> None:
    if clock.state != ClockState.RUNNING or clock.stopped_at is not None:
        return
    clock.elapsed_seconds = elapsed_at(clock, at)
    clock.running_since = None
    clock.state = ClockState.PAUSED
    clock.due_at = None
    clock.next_threshold_at = None
    clock.pauses = [*clock.pauses, [at.isoformat(), None]]


def resume(clock: SlaClock, at: datetime) -> None:
    if clock.state != ClockState.PAUSED:
        return
    clock.state = ClockState.BREACHED if clock.breached else ClockState.RUNNING
    clock.running_since = at
    if clock.pauses and clock.pauses[-1][1] is None:
        clock.pauses = [*clock.pauses[:-1], [clock.pauses[-1][0], at.isoformat()]]
    schedule(clock)


def stop(clock: SlaClock, at: datetime) -> None:
    """The goal was reached at `at`: met if within the target, else breached."""
    if clock.stopped_at is not None:
        return
    if clock.state == ClockState.PAUSED:
        resume(clock, at)
    clock.elapsed_seconds = elapsed_at(clock, at)
    clock.running_since = None
    clock.stopped_at = at
    clock.next_threshold_at = None
    if clock.elapsed_seconds > clock.target_seconds:
        clock.breached = True
    clock.state = ClockState.BREACHED if clock.breached else ClockState.MET


def cancel(clock: SlaClock, at: datetime) -> None:
    if clock.stopped_at is not None:
        return
    clock.elapsed_seconds = elapsed_at(clock, at)
    clock.running_since = None
    clock.stopped_at = at
    clock.next_threshold_at = None
    clock.due_at = None
    clock.state = ClockState.CANCELLED


def retarget(clock: SlaClock, *, target_seconds: int, priority: int, at: datetime) -> None:
    """A priority change: keep the business time used, recompute the due time."""
    counting = is_counting(clock)
    if counting:
        clock.elapsed_seconds = elapsed_at(clock, at)
        clock.running_since = at
    clock.target_seconds = target_seconds
    clock.priority = priority
    if counting:
        schedule(clock)


def reopen(clock: SlaClock, at: datetime, *, restart: bool, cycle: int) -> None:
    """A resolved ticket came back: count on from the reopened moment (or from zero)."""
    clock.cycle = cycle
    clock.stopped_at = None
    if restart:
        clock.breached = False
        clock.fired = []
        clock.pauses = []
        start(clock, at)
        return
    clock.state = ClockState.BREACHED if clock.breached else ClockState.RUNNING
    clock.running_since = at
    schedule(clock)


def remaining_seconds(clock: SlaClock, at: datetime) -> float:
    return clock.target_seconds - elapsed_at(clock, at)
