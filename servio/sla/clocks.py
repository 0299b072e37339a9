"""The clock arithmetic: start, pause, resume, stop, cancel, retarget and levels of one SlaClock.

Pure functions over a clock row and an instant; `services.sla_sync` decides which to call. A
counting clock's business time is `elapsed_seconds` (banked before `running_since`) plus the
business time from `running_since` to now on the clock's calendar. A paused or stopped clock has
no `running_since`; its business time is `elapsed_seconds`. Business time is counted in whole
microseconds, as the calendar engine counts it, so that every comparison is exact.

Levels are the percentages of the target at which something is announced: each warning
threshold of the policy, the breach (100) and each escalation's `at` (which may lie beyond 100,
e.g. 200 = twice the target). A clock **passes** a level once it has used more than that share
of its target; so a clock that used exactly its target is met, and the breach comes when business
time counts beyond the due time. `fired` lists the levels already announced; `next_threshold_at`
is the instant after which the first unannounced level is passed (for the periodic scan), or an
instant in the past when a level has been passed and not yet announced.

Whatever ends a clock's counting or changes its target (a pause, a stop, a cancellation, a
priority change) first settles the levels passed by then: they are marked as announced here and
owed to the caller, which announces them (`owed`), so no crossing depends on a scan having run
before the change. A due time already passed is dated by replaying the clock's stretches of
counting (its start, the recorded pauses and the time between a resolution and a reopening).
"""

from __future__ import annotations

from datetime import datetime

from servio.sla.calendar import (
    BusinessCalendar,
    add_business_seconds,
    business_seconds_between,
    next_business_instant,
)
from servio.sla.models import ClockState, SlaClock

BREACH = 100
COUNTING = (ClockState.RUNNING, ClockState.BREACHED)
US = 1_000_000  # microseconds in a second: the clock's unit of business time
_OWED = "_sla_levels_owed"


def _cal(clock: SlaClock) -> BusinessCalendar:
    return clock.calendar.engine()


def to_us(seconds: float) -> int:
    """Seconds (as stored, microsecond exact) in whole microseconds."""
    return round(seconds * US)


def seconds(us: int) -> int | float:
    """Whole microseconds as seconds: an int when whole, else the nearest float."""
    return us // US if us % US == 0 else us / US


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


def level_us(clock: SlaClock, percent: int | float) -> int:
    """Business microseconds of `percent` of the clock's target."""
    if isinstance(percent, int):
        return clock.target_seconds * percent * (US // 100)
    return round(clock.target_seconds * percent * (US // 100))


def is_counting(clock: SlaClock) -> bool:
    return clock.stopped_at is None and clock.state in COUNTING


def used_us(clock: SlaClock, at: datetime) -> int:
    """Business microseconds used by `at`."""
    used = to_us(clock.elapsed_seconds)
    if is_counting(clock) and clock.running_since is not None and at > clock.running_since:
        used += to_us(
            business_seconds_between(calendar=_cal(clock), start=clock.running_since, end=at)
        )
    return used


def elapsed_at(clock: SlaClock, at: datetime) -> int | float:
    """Business seconds used by `at`."""
    return seconds(used_us(clock, at))


def remaining_seconds(clock: SlaClock, at: datetime) -> int | float:
    return seconds(clock.target_seconds * US - used_us(clock, at))


def _reached(clock: SlaClock) -> bool:
    """The banked business time is at least the target (the due time lies in the past)."""
    return to_us(clock.elapsed_seconds) >= clock.target_seconds * US


# --- when a level is reached and passed ---------------------------------------------------------


def reached_at(clock: SlaClock, us: int) -> datetime | None:
    """The earliest instant by which the clock has used `us` (None: a paused clock, not yet).

    Business time still to come counts from `running_since`; business time already used is
    found by replaying the stretches in which the clock counted, latest first.
    """
    used = to_us(clock.elapsed_seconds)
    if us > used:
        if not is_counting(clock) or clock.running_since is None:
            return None
        return add_business_seconds(
            calendar=_cal(clock), start=clock.running_since, seconds=seconds(us - used)
        )
    return _replay(clock, us)


def instant_of(clock: SlaClock, percent: float) -> datetime | None:
    """When the clock reaches `percent` of its target (None: a paused clock, not yet)."""
    return reached_at(clock, level_us(clock, percent))


def _stretches(clock: SlaClock) -> list[tuple[datetime, datetime | None]]:
    """The stretches in which the clock counted: from its start, between its recorded pauses."""
    found: list[tuple[datetime, datetime | None]] = []
    begin = clock.started_at
    for since, until in clock.pauses:
        found.append((begin, datetime.fromisoformat(since)))
        if until is None:
            return found
        begin = datetime.fromisoformat(until)
    found.append((begin, None))
    return found


def _anchor(clock: SlaClock) -> datetime:
    """The instant up to which `elapsed_seconds` is the business time used."""
    if clock.running_since is not None:
        return clock.running_since
    if clock.stopped_at is not None:
        return clock.stopped_at
    if clock.pauses and clock.pauses[-1][1] is None:
        return datetime.fromisoformat(clock.pauses[-1][0])
    return clock.started_at


def _replay(clock: SlaClock, us: int) -> datetime:
    """The earliest instant by which the clock had used `us` (no more than it has used now).

    Walks back from the banked business time through the stretches of counting, so the time
    banked is the anchor. After a change of the calendar's hours the earlier stretches are
    counted on the new hours; the answer then stays inside the stretch in which it falls.
    """
    calendar = _cal(clock)
    anchor, used = _anchor(clock), to_us(clock.elapsed_seconds)
    stretches = _stretches(clock)
    for i in range(len(stretches) - 1, -1, -1):
        begin, end = stretches[i]
        if begin > anchor:
            continue
        stop = anchor if end is None or end > anchor else end
        if i == 0:  # the clock had used nothing at its start
            found = add_business_seconds(calendar=calendar, start=begin, seconds=seconds(us))
            return min(found, stop)
        before = used - to_us(business_seconds_between(calendar=calendar, start=begin, end=stop))
        if before < us:
            return add_business_seconds(
                calendar=calendar, start=begin, seconds=seconds(us - before)
            )
        anchor, used = begin, before
    return clock.started_at


def _passes_after(clock: SlaClock, us: int) -> datetime | None:
    """For the scan: the instant after which the clock has used more than `us`.

    A level already passed gives the instant it was reached (in the past: the next scan takes
    it); a level of a paused clock not yet passed gives None.
    """
    used = to_us(clock.elapsed_seconds)
    if used > us:
        return reached_at(clock, us)
    if not is_counting(clock) or clock.running_since is None:
        return None
    calendar = _cal(clock)
    reached = add_business_seconds(
        calendar=calendar, start=clock.running_since, seconds=seconds(us - used)
    )
    # Reached at the end of a shift, the level is passed only when work starts again.
    return next_business_instant(calendar=calendar, instant=reached)


def next_level_at(clock: SlaClock, found: list[int | float] | None = None) -> datetime | None:
    """When the first unannounced level of `found` (default: the policy's) is passed."""
    if clock.stopped_at is not None:
        return None
    pending = next((p for p in (found or levels(clock)) if p not in clock.fired), None)
    return None if pending is None else _passes_after(clock, level_us(clock, pending))


def schedule(clock: SlaClock) -> None:
    """Recompute the due time of a counting clock and when its next unannounced level passes.

    A clock already past its target keeps the due time it has (the moment it got there).
    """
    if is_counting(clock) and (clock.due_at is None or not _reached(clock)):
        clock.due_at = reached_at(clock, clock.target_seconds * US)
    clock.next_threshold_at = next_level_at(clock)


def settle(
    clock: SlaClock, at: datetime, found: list[int | float] | None = None
) -> list[int | float]:
    """Mark the levels passed by `at` and not yet announced as announced, and return them.

    Passing the breach marks the clock breached. The caller announces what this returns.
    """
    used = used_us(clock, at)
    passed = [
        p for p in (found or levels(clock)) if p not in clock.fired and used > level_us(clock, p)
    ]
    if passed:
        clock.fired = [*clock.fired, *passed]
        if max(passed) >= BREACH:
            clock.breached = True
            if clock.state == ClockState.RUNNING:
                clock.state = ClockState.BREACHED
    return passed


def _settle_owed(clock: SlaClock, at: datetime) -> None:
    passed = settle(clock, at)
    if passed:  # announced with the due time the clock had when it passed them
        setattr(clock, _OWED, [*owed(clock), *((level, clock.due_at) for level in passed)])


def owed(clock: SlaClock) -> list[tuple[int | float, datetime | None]]:
    """(level, due time then) a change settled (marked announced) and the caller announces."""
    return getattr(clock, _OWED, [])


def take_owed(clock: SlaClock) -> list[tuple[int | float, datetime | None]]:
    """`owed`, once: the caller announces them now."""
    found = owed(clock)
    if found:
        delattr(clock, _OWED)
    return found


# --- the changes ---------------------------------------------------------------------------------


def _bank(clock: SlaClock, at: datetime) -> None:
    """Keep the business time used by `at` in `elapsed_seconds`."""
    clock.elapsed_seconds = seconds(used_us(clock, at))


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
    _settle_owed(clock, at)
    _bank(clock, at)
    clock.running_since = None
    clock.state = ClockState.PAUSED
    if not _reached(clock):
        clock.due_at = None  # unknown until the clock resumes
    clock.pauses = [*clock.pauses, [at.isoformat(), None]]
    clock.next_threshold_at = next_level_at(clock)


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
    _settle_owed(clock, at)
    _bank(clock, at)
    clock.running_since = None
    clock.stopped_at = at
    clock.next_threshold_at = None
    if to_us(clock.elapsed_seconds) > clock.target_seconds * US:
        clock.breached = True
    clock.state = ClockState.BREACHED if clock.breached else ClockState.MET


def cancel(clock: SlaClock, at: datetime) -> None:
    """The ticket was cancelled at `at`: the clock ends without a verdict."""
    if clock.stopped_at is not None:
        return
    _settle_owed(clock, at)
    _bank(clock, at)
    _close_pause(clock, at)
    clock.running_since = None
    clock.stopped_at = at
    clock.next_threshold_at = None
    clock.due_at = None
    clock.state = ClockState.CANCELLED


def retarget(clock: SlaClock, *, target_seconds: int, priority: int, at: datetime) -> None:
    """A priority change: keep the business time used, recompute the due time and levels.

    Levels passed under the old target are settled first. A new target already exceeded is
    dated when the clock passed it; levels it puts in the past are left for the next scan, and
    levels it puts in the future wait for their new instant.
    """
    clock.priority = priority
    if target_seconds == clock.target_seconds:
        return
    _settle_owed(clock, at)
    if is_counting(clock) and clock.running_since is not None:
        _bank(clock, at)
        clock.running_since = at
    clock.target_seconds = target_seconds
    if is_counting(clock) or _reached(clock):
        clock.due_at = reached_at(clock, target_seconds * US)
    else:
        clock.due_at = None  # paused: unknown until the clock resumes
    clock.next_threshold_at = next_level_at(clock)


def reopen(clock: SlaClock, at: datetime, *, cycle: int) -> None:
    """A resolved ticket came back: the same clock counts on from the reopened moment.

    The time it was resolved is recorded as a pause: it did not count.
    """
    if clock.stopped_at is not None:
        clock.pauses = [*clock.pauses, [clock.stopped_at.isoformat(), at.isoformat()]]
    clock.cycle = cycle
    clock.stopped_at = None
    clock.state = ClockState.BREACHED if clock.breached else ClockState.RUNNING
    clock.running_since = at
    schedule(clock)


def rebank(clock: SlaClock, old: BusinessCalendar, at: datetime) -> None:
    """The clock's calendar changed at `at`: bank the business time used under the old hours."""
    if is_counting(clock) and clock.running_since is not None and at > clock.running_since:
        spent = business_seconds_between(calendar=old, start=clock.running_since, end=at)
        clock.elapsed_seconds = seconds(to_us(clock.elapsed_seconds) + to_us(spent))
        clock.running_since = at
    if not _reached(clock):
        clock.due_at = None
    schedule(clock)
