"""Celery mode: the same handlers and jobs, run by Celery tasks, beat and a real worker."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from celery import Celery
from django.db import transaction

from servio import celery as servio_celery
from servio.core import jobs, outbox
from servio.core.models import JobState, OutboxMessage
from tests.conftest import require_component
from tests.core.conftest import Live

REDIS_URL = os.environ.get("SERVIO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_beat_schedule_drains_the_outbox_and_runs_every_job(job_registry):
    jobs.periodic("t.hourly", every=timedelta(hours=1))(lambda: None)
    jobs.periodic("t.minutely", every=timedelta(minutes=1))(lambda: None)
    app = Celery("schedule-test", set_as_current=False, broker="memory://")

    servio_celery._schedule(app)

    schedule = app.conf.beat_schedule
    assert schedule["drain outbox"]["task"] == "servio.drain_outbox"
    assert schedule["drain outbox"]["schedule"] == servio_celery.DRAIN_EVERY.total_seconds()
    assert {key for key in schedule if key.startswith("job ")} == {"job t.hourly", "job t.minutely"}
    assert schedule["job t.hourly"]["task"] == "servio.run_periodic"
    assert schedule["job t.hourly"]["args"] == ("t.hourly",)
    assert schedule["job t.hourly"]["schedule"] == 3600.0


def test_each_lane_of_jobs_has_a_queue_of_its_own(job_registry):
    jobs.periodic("t.main", every=timedelta(minutes=1))(lambda: None)
    jobs.periodic("t.poll", every=timedelta(minutes=1), lane="mail")(lambda: None)
    app = Celery("schedule-test", set_as_current=False, broker="memory://")

    servio_celery._schedule(app)

    schedule = app.conf.beat_schedule
    assert schedule["job t.main"]["options"]["queue"] == "servio"
    assert schedule["job t.poll"]["options"]["queue"] == "servio.mail"


def test_tasks_go_to_the_servio_queue():
    assert servio_celery.app.conf.task_default_queue == "servio"
    assert servio_celery.app.conf.task_acks_late is True


def test_drain_task_delivers_through_the_outbox(db, registry):
    seen: list[outbox.Event] = []
    outbox.handler("a", name="t.a")(seen.append)
    outbox.publish("a", {"n": 1})

    assert servio_celery.drain_outbox.apply().get() == 1

    assert len(seen) == 1
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.DELIVERED


def test_periodic_task_runs_a_registered_job_once_per_period(db, job_registry):
    runs: list[bool] = []
    jobs.periodic("t.job", every=timedelta(hours=1))(lambda: runs.append(True))

    assert servio_celery.run_periodic.apply(args=["t.job"]).get() is True
    assert servio_celery.run_periodic.apply(args=["t.job"]).get() is False
    assert runs == [True]
    assert JobState.objects.get(name="t.job").runs == 1


@pytest.mark.django_db(transaction=True)
def test_commit_asks_a_worker_to_drain(registry):
    outbox.handler("a", name="t.a")(lambda event: None)
    servio_celery.enable_broker_wakeups()
    servio_celery.enable_broker_wakeups()  # idempotent: still one message per commit
    with mock.patch.object(servio_celery.drain_outbox, "delay") as delay:
        with transaction.atomic():
            outbox.publish("a", {})
            outbox.publish("a", {})
            delay.assert_not_called()
        delay.assert_called_once_with()


# --- a real worker on the machine's Redis ------------------------------------------------------


def _redis():  # type: ignore[no-untyped-def]
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError:
        require_component(
            False,
            "Redis on 127.0.0.1:6379",
            "start it with `redis-server --daemonize yes --port 6379` "
            "or apt-get install redis-server",
        )
    return client


@pytest.mark.slow
@pytest.mark.redis
def test_celery_worker_and_beat_deliver_events_and_run_jobs(live: Live):
    """`servio worker --beat` with SERVIO_BROKER_URL: beat schedules the test job, the worker
    runs it; a publish in another process wakes the worker, which delivers every event once."""
    client = _redis()
    queue = f"servio-test-{uuid.uuid4().hex[:12]}"  # our own queue: Redis may be shared
    broker = {"SERVIO_BROKER_URL": REDIS_URL, "SERVIO_CELERY_QUEUE": queue}
    worker = live.start("worker", "--beat", "--concurrency=2", "--loglevel=info", env=broker)
    try:
        live.wait_for(
            lambda: live.traces("job"),
            running=worker,
            timeout=30,
            what="beat to send the 1-second test job and the worker to run it",
        )
        live.wait_for(
            lambda: live.traces("lane"),
            running=worker,
            timeout=30,
            what="the worker to run the job of another lane from that lane's queue",
        )
        ids = live.probe("publish", "3", env=broker)
        final = live.wait_for(
            live.all_delivered,
            running=worker,
            timeout=20,
            every=0.3,
            what="the worker to deliver 3 events",
        )
    finally:
        live.stop(worker)
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)

    assert sorted(row["event_id"] for row in final["rows"]) == sorted(ids)
    assert final["effects"] == {event: 1 for event in ids}, "each effect exactly once"
    job = final["jobs"]["tests.live.tick"]
    assert job["runs"] >= 1 and job["failures"] == 0, job
    log = live.output(worker)
    assert "Task servio.run_periodic" in log, log[-3000:]
    assert f"{queue}.side" in log, "the worker consumes the queue of every lane"
    # Beat also sends a drain every few seconds; more drains received than beat sent means the
    # publishing process's commit asked for one (the wake-up), whatever the timing.
    assert log.count("Sending due task drain outbox") < _received(log, "servio.drain_outbox"), log


def _received(log: str, task: str) -> int:
    return sum(1 for line in log.splitlines() if f"Task {task}[" in line and "received" in line)
