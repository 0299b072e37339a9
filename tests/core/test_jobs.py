"""Periodic jobs: due once per period, failures recorded, one winner when callers race."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from servio.core import jobs
from servio.core.models import JobState

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
EVERY = timedelta(minutes=10)


@pytest.fixture
def calls(job_registry) -> list[str]:
    """Register `test.count` (every 10 minutes), recording each run."""
    runs: list[str] = []
    jobs.periodic("test.count", every=EVERY)(lambda: runs.append("count"))
    return runs


def test_due_job_runs_once_and_not_again_before_its_period(db, calls):
    assert jobs.run_due_jobs(now=T0) == ["test.count"]
    assert jobs.run_due_jobs(now=T0) == []
    assert jobs.run_due_jobs(now=T0 + EVERY - timedelta(seconds=1)) == []
    assert calls == ["count"]

    assert jobs.run_due_jobs(now=T0 + EVERY) == ["test.count"]
    assert calls == ["count", "count"]
    state = JobState.objects.get(name="test.count")
    assert (state.runs, state.failures, state.last_error) == (2, 0, "")
    assert state.next_run_at == T0 + 2 * EVERY
    assert state.last_started_at == T0 + EVERY and state.last_finished_at is not None


def test_failing_job_records_the_error_and_runs_again_next_period(db, job_registry, calls):
    broken = True

    @jobs.periodic("test.flaky", every=EVERY)
    def flaky() -> None:
        if broken:
            raise RuntimeError("mailbox unreachable")

    assert sorted(jobs.run_due_jobs(now=T0)) == ["test.count", "test.flaky"]
    assert calls == ["count"], "one failing job must not stop the others"
    state = JobState.objects.get(name="test.flaky")
    assert state.failures == 1
    assert state.last_error == "RuntimeError: mailbox unreachable"

    broken = False
    jobs.run_due_jobs(now=T0 + EVERY)
    state.refresh_from_db()
    assert (state.runs, state.failures, state.last_error) == (2, 1, "")


def test_racing_callers_run_a_job_once(db, calls):
    """Two runners (or a runner and Celery beat) see the job due at the same moment."""
    job = jobs.JOBS["test.count"]
    assert jobs._claim(job, T0) is True
    assert jobs._claim(job, T0) is False
    assert jobs.run_due_jobs(now=T0) == []
    assert JobState.objects.get(name="test.count").runs == 1


def test_run_if_due_runs_once_per_period_despite_beat_jitter(db, calls):
    """Beat sends every 10 minutes; each send is claimed a little after it was sent."""
    assert jobs.run_if_due("test.count", now=T0 + timedelta(milliseconds=40)) is True
    # The next send is claimed sooner after its own send: a few ms "before" the period ends.
    assert jobs.run_if_due("test.count", now=T0 + EVERY + timedelta(milliseconds=5)) is True
    # A duplicate of that send (a second beat, a redelivered message) runs nothing.
    assert jobs.run_if_due("test.count", now=T0 + EVERY + timedelta(seconds=2)) is False
    assert calls == ["count", "count"]


def test_new_job_is_due_at_once(db, calls):
    assert not JobState.objects.exists()
    assert jobs.run_due_jobs() == ["test.count"]


def test_core_registers_its_housekeeping_job():
    assert "core.outbox_cleanup" in jobs.JOBS


def test_outbox_cleanup_forgets_old_deliveries_but_keeps_dead_letters(db):
    from django.utils import timezone

    from servio.core.models import OutboxMessage, ProcessedEvent
    from servio.core.tasks import outbox_cleanup

    old = timezone.now() - timedelta(days=8)
    delivered, recent, dead = OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(topic="t", handler="h", status="delivered", delivered_at=old),
            OutboxMessage(topic="t", handler="h", status="delivered", delivered_at=timezone.now()),
            OutboxMessage(topic="t", handler="h", status="dead", created_at=old),
        ]
    )
    ProcessedEvent.objects.create(handler="h", event_id=delivered.event_id, processed_at=old)
    assert outbox_cleanup() == 1
    assert set(OutboxMessage.objects.values_list("id", flat=True)) == {recent.id, dead.id}
    # Markers outlive their rows by a retention period: a late redelivery is still recognised.
    assert ProcessedEvent.objects.count() == 1
