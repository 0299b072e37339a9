"""The in-process runner: wakes on commit, drains, runs jobs; killed runners lose nothing."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.db import transaction

from servio.core import jobs, outbox
from servio.core.models import OutboxMessage
from servio.core.runner import Runner
from tests.core.conftest import Live


def test_tick_delivers_due_rows_and_runs_due_jobs(db, registry, job_registry):
    delivered: list[outbox.Event] = []
    ran: list[bool] = []
    outbox.handler("a", name="t.a")(delivered.append)
    jobs.periodic("t.job", every=timedelta(hours=1))(lambda: ran.append(True))
    outbox.publish("a", {})
    outbox.publish("a", {})

    Runner(run_jobs=True).tick()

    assert len(delivered) == 2 and ran == [True]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"delivered"}


@pytest.mark.django_db(transaction=True)
def test_each_lane_of_jobs_runs_in_a_thread_of_its_own(registry, job_registry):
    """A job of another lane that never returns holds up neither delivery nor the main lane."""
    release = threading.Event()
    main_ran = threading.Event()
    side_started = threading.Event()
    delivered = threading.Event()
    threads: dict[str, str] = {}

    def stuck() -> None:
        threads["side"] = threading.current_thread().name
        side_started.set()
        release.wait(30)

    def main_job() -> None:
        threads["main"] = threading.current_thread().name
        main_ran.set()

    jobs.periodic("t.stuck", every=timedelta(hours=1), lane="side")(stuck)
    jobs.periodic("t.main", every=timedelta(hours=1))(main_job)
    outbox.handler("a", name="t.a")(lambda event: delivered.set())
    runner = Runner(poll_seconds=0.1).start()
    try:
        assert main_ran.wait(10)
        with transaction.atomic():
            outbox.publish("a", {})
        assert delivered.wait(10), "delivery waited for the stuck lane"
        assert side_started.wait(10), "the side lane never ran its job"
    finally:
        release.set()
        runner.stop()
    assert threads == {"side": "servio-runner-side", "main": "servio-runner"}
    assert not any(thread.is_alive() for thread in runner._threads)


def test_runner_without_jobs_only_delivers(db, registry, job_registry):
    ran: list[bool] = []
    jobs.periodic("t.job", every=timedelta(hours=1))(lambda: ran.append(True))
    Runner(run_jobs=False).tick()
    assert ran == []


@pytest.mark.django_db(transaction=True)
def test_commit_wakes_the_runner_thread(registry, job_registry):
    """The runner polls every 60 s here, so a delivery within seconds proves the wake-up."""
    first_tick_done = threading.Event()
    delivered = threading.Event()
    jobs.periodic("t.first-tick", every=timedelta(hours=1))(first_tick_done.set)
    outbox.handler("a", name="t.a")(lambda event: delivered.set())

    runner = Runner(poll_seconds=60).start()
    try:
        assert first_tick_done.wait(10), "the runner's first tick did not run"
        time.sleep(0.05)  # let it reach its wait
        with transaction.atomic():
            outbox.publish("a", {})
        assert delivered.wait(10), "the commit did not wake the runner"
    finally:
        runner.stop()
    assert runner._thread is not None and not runner._thread.is_alive()
    assert outbox._wakeups == [], "a stopped runner must not stay registered for wake-ups"
    assert OutboxMessage.objects.get().status == "delivered"


# --- real processes ---------------------------------------------------------------------------


@pytest.mark.slow
def test_runner_killed_mid_delivery_loses_nothing(live: Live):
    """SIGKILL a `servio worker` runner inside a handler; a new runner finishes the work."""
    gate = live.tmp / "gate"
    gate.touch()
    ids = live.probe("publish", "5", "--gate", str(gate), "--gate-index", "2")

    first = live.start("worker")
    live.wait_for(
        lambda: len(live.traces("start")) == 3,
        running=first,
        timeout=20,
        what="the first runner to reach the 3rd event (held at the gate)",
    )
    live.stop(first, signal.SIGKILL)  # inside the 3rd delivery, its effect written, uncommitted
    gate.unlink()
    assert [event for event, _pid in live.traces("start")] == ids[:3]

    after_kill = live.status()
    delivered = [r["event_id"] for r in after_kill["rows"] if r["status"] == "delivered"]
    assert delivered == ids[:2]
    assert after_kill["effects"] == {ids[0]: 1, ids[1]: 1}, "the killed delivery's effect stayed"

    second = live.start("worker")
    final = live.wait_for(
        live.all_delivered,
        running=second,
        timeout=20,
        every=0.3,
        what="the second runner to deliver the rest",
    )
    live.wait_for(
        lambda: live.traces("job"), running=second, timeout=10, what="the runner to run a job"
    )
    live.stop(second)

    assert sorted(r["event_id"] for r in final["rows"]) == sorted(ids), "one row per event"
    assert final["effects"] == {event: 1 for event in ids}, (
        f"each effect exactly once: {final}\n{live.trace_path.read_text()}"
    )
    # At-least-once: the interrupted delivery ran again; nothing delivered ran twice.
    assert [event for event, _pid in live.traces("start")] == [*ids[:3], *ids[2:]]
    assert second.returncode == 0, live.output(second)


@pytest.mark.slow
def test_two_claiming_processes_never_share_a_row(live: Live):
    live.probe("publish", "30")
    go = live.tmp / "go"
    claimers = {
        name: live.start(
            "claim",
            "--worker",
            name,
            "--ready",
            str(live.tmp / f"{name}.ready"),
            "--go",
            str(go),
            module="tests.core.live",
        )
        for name in ("left", "right")
    }
    for name, claimer in claimers.items():
        live.wait_for((live.tmp / f"{name}.ready").exists, running=claimer, timeout=30, what=name)
    go.touch()  # both are past their imports: now they race
    for claimer in claimers.values():
        claimer.wait(timeout=30)
        assert claimer.returncode == 0, live.output(claimer)
    left, right = (json.loads(live.output(c)) for c in claimers.values())
    rows = live.status()["rows"]
    assert not set(left) & set(right), "a row was leased to both processes"
    assert sorted(left + right) == sorted(r["id"] for r in rows)
    assert left and right, "no real race: one process took every row"


@pytest.mark.slow
def test_servio_run_delivers_with_its_in_process_runner(live: Live):
    """`servio run` (gunicorn) starts the runner in its worker; no `servio worker` needed."""
    ids = live.probe("publish", "2")
    server = live.start("run", "--host", "127.0.0.1", "--port", "0", "--no-migrate")
    try:
        final = live.wait_for(
            live.all_delivered,
            running=server,
            timeout=20,
            every=0.3,
            what="the web process's runner to deliver 2 events",
        )
        live.wait_for(
            lambda: live.traces("lane"),
            running=server,
            timeout=20,
            what="the runner's thread of another lane to run that lane's job",
        )
    finally:
        live.stop(server)
    assert final["effects"] == {event: 1 for event in ids}
    assert "background work: in-process runner" in live.output(server)
