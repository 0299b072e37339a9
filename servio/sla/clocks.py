"""The clock arithmetic: start, pause, resume, stop, cancel, retarget and levels of one SlaClock.

Pure functions over a clock row and an instant; `services.sla_sync` decides which to call. A
counting clock's business time is `elapsed_seconds` (banked before `running_since`) plus the
business time from `running_since` to now on the clock's calendar. A paused or stopped clock has
no `running_since`; its business time is `elapsed_seconds`.

Levels are the percentages of the target at which the scan has something to do: each warning
threshold of the policy, the breach (100) and each escalation's `at` (which may lie beyond 100,
e.g. 200 = twice the target). `fired` lists the levels already handled; `next_threshold_at` is
the instant the first unhandled level is reached, or None when the clock is not counting.
"""

from __future__ import annotations

from datetime import datetime

from servio.sla.calendar import BusinessCalendar, add_business_seconds, business_seconds_between
from servio.sla.models import ClockState, SlaClock

BREACH = 100
COUNTING = (ClockState.RUNNING, ClockState.BREACHED)


def _cal(clock: SlaClock) -> BusinessCalendar:
    return clock.calendar.engine()


def percent_value(value: object) -> int | float | None:
    """A level as stored in `fired` (75, not 75.0), or None if it is not a positive number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return None
    return int(value) if float(value).is_integer() else float(value)


def warning_levels(policy) -> list[int | float]:
    """The policy's warning thresholds that lie strictly between 0 and the breach."""
    found = {percent_value(p) for p in policy.warning_thresholds or ()}
    return sorted(p for p in found if p is not None and p < BREACH)


def levels(clock: SlaClock) -> list[int | float]:
    """Every level of the clock's policy, ascending: warnings, the breach, escalations."""
    found: set[int | float] = {*warning_levels(clock.policy), BREACH}
    for escalation in clock.policy.escalations or ():
        if isinstance(escalation, dict):
            at = percent_value(escalation.get("at"))
            if at is not None:
                found.add(at)
    return sorted(found)


def is_counting(clock: SlaClock) -> bool:
    return clock.stopped_at is None and clock.state in COUNTING


def elapsed_at(clock: SlaClock, at: datetime) -> float:
    """Business seconds used by `at`."""
    if is_counting(clock) and clock.running_since is not None and at > clock.running_since:
        return clock.elapsed_seconds + business_seconds_between(
            calendar=_cal(clock), start=clock.running_since, end=at
        )
    return clock.elapsed_seconds


def instant_of(clock: SlaClock, percent: float) -> datetime:
    """When a counting clock reaches `percent` of its target (`running_since` if already past)."""
    if clock.running_since is None:
        raise ValueError("Only a counting clock reaches levels.")
    need = max(0.0, clock.target_seconds * percent / 100 - clock.elapsed_seconds)
    return add_business_seconds(calendar=_cal(clock), start=clock.running_since, seconds=need)


def _overdue(clock: SlaClock) -> bool:
    return clock.elapsed_seconds >= clock.target_seconds


def schedule(clock: SlaClock) -> None:
    """Recompute the due time and the next unhandled level of a counting clock.

    A clock already past its target keeps the due time it had (the moment it became overdue).
    """
    if not is_counting(clock):
        clock.next_threshold_at = None
        return
    if clock.due_at is None or not _overdue(clock):
        clock.due_at = instant_of(clock, BREACH)
    pending = [p for p in levels(clock) if p not in clock.fired]
    clock.next_threshold_at = instant_of(clock, pending[0]) if pending else None


def start(clock: SlaClock, at: datetime) -> None:
    clock.state = ClockState.RUNNING
    clock.started_at = at
    clock.running_since = at
    clock.elapsed_seconds = 0.0
    clock.due_at = None
    schedule(clock)


def _close_pause(clock: SlaClock, at: datetime) -> None:
    if clock.pauses and clock.pauses[-1][1] is None:
        clock.pauses = [*clock.pauses[:-1], [clock.pauses[-1][0], at.isoformat()]]


def pause(clock: SlaClock, at: datetime) -> None:
    """Stop counting (a breached clock pauses too); the pause is recorded in `pauses`."""
    if not is_counting(clock):
        return
    clock.elapsed_seconds = elapsed_at(clock, at)
    clock.running_since = None
    clock.state = ClockState.PAUSED
    if not _overdue(clock):
        clock.due_at = None  # unknown until the clock resumes
    clock.next_threshold_at = None
    clock.pauses = [*clock.pauses, [at.isoformat(), None]]


def resume(clock: SlaClock, at: datetime) -> None:
    if clock.state != ClockState.PAUSED or clock.stopped_at is not None:
        return
    clock.state = ClockState.BREACHED if clock.breached else ClockState.RUNNING
    clock.running_since = at
    _close_pause(clock, at)
    schedule(clock)


def stop(clock: SlaClock, at: datetime) -> None:
    """The goal was reached at `at`: met if within the target, else breached (for good)."""
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
    """The ticket was cancelled at `at`: the clock ends without a verdict."""
    if clock.stopped_at is not None:
        return
    clock.elapsed_seconds = elapsed_at(clock, at)
    _close_pause(clock, at)
    clock.running_since = None
    clock.stopped_at = at
    clock.next_threshold_at = None
    clock.due_at = None
    clock.state = ClockState.CANCELLED


def retarget(clock: SlaClock, *, target_seconds: int, priority: int, at: datetime) -> None:
    """A priority change: keep the business time used, recompute the due time and levels.

    Levels the new target puts in the past become due at `at`, so the next scan announces them;
    levels it puts in the future wait for their new instant.
    """
    clock.priority = priority
    if target_seconds == clock.target_seconds:
        return
    if is_counting(clock) and clock.running_since is not None:
        # The new due time, counted on the running stretch (exact when it lies in it; else the
        # clock was already over the new target when this stretch began).
        previous = clock.running_since
        need = max(0.0, target_seconds - clock.elapsed_seconds)
        clock.due_at = add_business_seconds(calendar=_cal(clock), start=previous, seconds=need)
        clock.elapsed_seconds = elapsed_at(clock, at)
        clock.running_since = at
        clock.target_seconds = target_seconds
        schedule(clock)  # keeps that due time when already overdue
        return
    clock.target_seconds = target_seconds
    if clock.state == ClockState.PAUSED:
        clock.due_at = (clock.due_at or at) if _overdue(clock) else None


def reopen(clock: SlaClock, at: datetime, *, cycle: int) -> None:
    """A resolved ticket came back: the same clock counts on from the reopened moment."""
    clock.cycle = cycle
    clock.stopped_at = None
    clock.state = ClockState.BREACHED if clock.breached else ClockState.RUNNING
    clock.running_since = at
    schedule(clock)


def remaining_seconds(clock: SlaClock, at: datetime) -> float:
    return clock.target_seconds - elapsed_at(clock, at)
