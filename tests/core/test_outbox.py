"""The transactional outbox: publish, claim, deliver with backoff, dead letters, idempotency."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone

from servio.core import backoff, network, outbox
from servio.core.models import JobState, OutboxMessage, ProcessedEvent

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
Status = OutboxMessage.Status


class Clock:
    """A controllable `timezone.now` (model defaults keep the real one)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Iterator[Clock]:
    fake = Clock(T0)
    with mock.patch.object(timezone, "now", fake):
        yield fake


class Boom(Exception):
    pass


# --- publish --------------------------------------------------------------------------------


def test_publish_writes_one_row_per_matching_handler(db, registry):
    calls: list[outbox.Event] = []
    outbox.handler("ticket.created", name="t.topic")(calls.append)
    outbox.handler("*", name="t.every")(calls.append)
    outbox.handler("ticket.closed", name="t.other")(calls.append)

    event_id = outbox.publish("ticket.created", {"ticket": 7})

    rows = list(OutboxMessage.objects.order_by("handler"))
    assert [row.handler for row in rows] == ["t.every", "t.topic"]
    for row in rows:
        assert row.event_id == event_id
        assert row.topic == "ticket.created"
        assert row.payload == {"ticket": 7}
        assert (row.status, row.attempts) == (Status.PENDING, 0)
    assert calls == []  # nothing runs inside the publishing transaction


def test_publish_keeps_a_given_event_id(db, registry):
    outbox.handler("a", name="t.a")(lambda event: None)
    event_id = uuid.uuid4()
    assert outbox.publish("a", {}, event_id=event_id) == event_id
    assert OutboxMessage.objects.get().event_id == event_id


def test_publish_without_handlers_writes_nothing(db, registry):
    outbox.handler("other", name="t.other")(lambda event: None)
    event_id = outbox.publish("nobody.listens", {"x": 1})
    assert isinstance(event_id, uuid.UUID)
    assert not OutboxMessage.objects.exists()


def test_rolled_back_transaction_leaves_no_rows(db, registry):
    outbox.handler("a", name="t.a")(lambda event: None)
    with pytest.raises(Boom), transaction.atomic():
        outbox.publish("a", {})
        assert OutboxMessage.objects.count() == 1
        raise Boom
    assert not OutboxMessage.objects.exists()


def test_rows_are_written_at_publish_inside_an_audit_block_too(db, registry):
    """The rows are an ordinary `bulk_create` of the caller's transaction (decision 27): they
    are there at once, and a savepoint that rolls back takes its rows along."""
    from servio.audit.services import audit_atomic, audit_record

    outbox.handler("a", name="t.a")(lambda event: None)
    with audit_atomic():
        outbox.publish("a", {"keep": True})
        assert OutboxMessage.objects.count() == 1
        with pytest.raises(Boom), transaction.atomic():
            outbox.publish("a", {"keep": False})
            raise Boom
        audit_record(actor=None, action="t.did", object_type="t", object_id=1)
    assert [m.payload for m in OutboxMessage.objects.all()] == [{"keep": True}]


@pytest.mark.django_db(transaction=True)
def test_wakeup_fires_only_after_commit(registry):
    outbox.handler("a", name="t.a")(lambda event: None)
    woken: list[int] = []
    outbox.on_wakeup(lambda: woken.append(OutboxMessage.objects.count()))

    with transaction.atomic():
        outbox.publish("a", {})
        outbox.publish("a", {})
        assert woken == []
    assert woken == [2]  # once per transaction, when the rows are visible (committed)

    with pytest.raises(Boom), transaction.atomic():
        outbox.publish("a", {})
        raise Boom
    outbox.publish("nobody.listens", {})
    assert woken == [2]

    with transaction.atomic():
        with pytest.raises(Boom), transaction.atomic():
            outbox.publish("a", {})  # its wake-up goes with the rolled-back savepoint...
            raise Boom
        outbox.publish("a", {})  # ...so this publish must register its own
    assert woken == [2, 3]

    outbox.publish("a", {})  # autocommit: wakes at once
    assert woken == [2, 3, 4]


@pytest.mark.django_db(transaction=True)
def test_failing_wakeup_does_not_break_the_publisher(registry):
    outbox.handler("a", name="t.a")(lambda event: None)
    woken: list[bool] = []

    def broken() -> None:
        raise ConnectionError("broker down")

    outbox.on_wakeup(broken)
    outbox.on_wakeup(lambda: woken.append(True))
    with transaction.atomic():
        outbox.publish("a", {})
    assert woken == [True]
    assert OutboxMessage.objects.count() == 1  # the row is the truth; the next poll delivers it
    outbox.off_wakeup(broken)
    assert len(outbox._wakeups) == 1


@pytest.mark.django_db(transaction=True)
def test_publish_many_writes_the_rows_of_publish_and_wakes_once(registry):
    outbox.handler("a", name="t.a")(lambda event: None)
    outbox.handler("a", "b", name="t.ab")(lambda event: None)
    woken: list[int] = []
    outbox.on_wakeup(lambda: woken.append(OutboxMessage.objects.count()))

    with transaction.atomic():
        ids = outbox.publish_many([("a", {"n": 1}), ("b", {"n": 2}), ("nobody.listens", {})])
        assert woken == []
    assert woken == [3]
    rows = {(r.event_id, r.handler): r for r in OutboxMessage.objects.all()}
    assert set(rows) == {(ids[0], "t.a"), (ids[0], "t.ab"), (ids[1], "t.ab")}
    for row in rows.values():
        assert (row.status, row.attempts, row.locked_by) == (Status.PENDING, 0, "")
        assert row.last_error == ""
        assert row.available_at == row.created_at and row.delivered_at is None
    assert rows[(ids[1], "t.ab")].topic == "b"
    assert rows[(ids[1], "t.ab")].payload == {"n": 2}


def test_publish_many_keeps_given_event_ids_and_refuses_a_mismatch(db, registry):
    outbox.handler("a", name="t.a")(lambda event: None)
    given = [uuid.uuid4(), uuid.uuid4()]
    assert outbox.publish_many([("a", {}), ("a", {})], event_ids=given) == given
    assert set(OutboxMessage.objects.values_list("event_id", flat=True)) == set(given)
    with pytest.raises(ValueError, match="one event id per event"):
        outbox.publish_many([("a", {})], event_ids=given)


def test_a_large_batch_is_written_in_one_go_with_the_same_rows(
    db, registry, django_assert_max_num_queries
):
    """`bulk_create` sends a batch this size (the SLA scan publishes such batches) in one
    statement on PostgreSQL and a few on SQLite (its limit on parameters)."""
    outbox.handler("a", name="t.a")(lambda event: None)
    outbox.handler("a", name="t.b")(lambda event: None)
    events = [("a", {"n": n, "text": "naïve ünïcode"}) for n in range(200)]
    # 400 rows of 12 columns: SQLite takes at most 999 parameters per statement.
    with django_assert_max_num_queries(1 if connection.vendor == "postgresql" else 5):
        ids = outbox.publish_many(events)
    assert OutboxMessage.objects.count() == 2 * len(events)
    row = OutboxMessage.objects.get(event_id=ids[7], handler="t.b")
    assert (row.topic, row.status) == ("a", "pending")
    assert row.payload == {"n": 7, "text": "naïve ünïcode"}


def test_handlers_for_follows_registration_changes(registry):
    outbox.handler("a", name="t.a")(lambda event: None)
    assert outbox.handlers_for("a") == ["t.a"]
    outbox.handler("*", name="t.all")(lambda event: None)
    assert outbox.handlers_for("a") == ["t.a", "t.all"]
    outbox.unregister("t.a")
    assert outbox.handlers_for("a") == ["t.all"]


# --- deliver --------------------------------------------------------------------------------


def _claim_one(**kwargs: object) -> OutboxMessage:
    [message] = outbox.claim_batch(**kwargs)  # type: ignore[arg-type]
    return message


def test_delivery_marks_the_row_delivered_and_passes_the_event(db, registry):
    seen: list[outbox.Event] = []
    outbox.handler("a", name="t.a")(seen.append)
    event_id = outbox.publish("a", {"k": "v"})

    assert outbox.deliver(_claim_one()) is True

    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts, row.last_error) == (Status.DELIVERED, 1, "")
    assert row.delivered_at is not None and row.locked_until is None
    assert seen == [outbox.Event(event_id, "a", {"k": "v"}, 1)]
    assert ProcessedEvent.objects.filter(handler="t.a", event_id=event_id).exists()
    assert outbox.claim_batch() == []


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch) -> random.Random:
    """Seed the jitter: returns a twin generator that draws the delays the outbox will draw."""
    monkeypatch.setattr(backoff, "_random", random.Random(13))
    return random.Random(13)


def test_failing_handler_backs_off_exponentially_with_jitter_then_is_dead_lettered(
    db, registry, settings, clock, seeded
):
    settings.SERVIO_OUTBOX_MAX_ATTEMPTS = 4
    settings.SERVIO_OUTBOX_RETRY_BASE_SECONDS = 10
    attempts: list[int] = []

    @outbox.handler("a", name="t.fail")
    def fail(event: outbox.Event) -> None:
        attempts.append(event.attempt)
        raise Boom(f"attempt {event.attempt} failed")

    outbox.publish("a", {})
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40)]:
        assert outbox.deliver(_claim_one()) is False
        row = OutboxMessage.objects.get()
        assert (row.status, row.attempts) == (Status.PENDING, attempt)
        delay = timedelta(seconds=seeded.uniform(0, ceiling))  # full jitter up to the ceiling
        assert row.available_at == clock.now + delay
        assert row.last_error.endswith(f"Boom: attempt {attempt} failed")
        assert row.locked_until is None
        clock.advance(seconds=delay.total_seconds() - 0.001)
        assert outbox.claim_batch() == [], "retried before its backoff ran out"
        clock.advance(seconds=0.001)

    assert outbox.deliver(_claim_one()) is False
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (Status.DEAD, 4)
    assert "Boom: attempt 4 failed" in row.last_error
    assert attempts == [1, 2, 3, 4]
    clock.advance(days=2)
    assert outbox.claim_batch() == [], "a dead letter is never retried by itself"
    assert outbox.outbox_stats().dead == 1


def test_retry_delays_are_jittered_below_an_exponential_ceiling_capped_at_a_day(settings):
    settings.SERVIO_OUTBOX_RETRY_BASE_SECONDS = 10
    rng = random.Random(7)
    for attempt, ceiling in [(1, 10), (2, 20), (5, 160), (40, 86_400)]:
        delays = [outbox.retry_delay(attempt, rng=rng).total_seconds() for _ in range(2000)]
        assert min(delays) >= 0 and max(delays) <= ceiling
        # Spread over the whole interval, not bunched: every tenth of it is drawn.
        assert {int(10 * d / ceiling) for d in delays} >= set(range(10))


def test_rows_that_failed_together_come_back_spread_out(db, registry, settings, clock):
    """The point of the jitter: a mail server down for 50 messages does not get all 50 retries
    at the same instant when it comes back."""
    settings.SERVIO_OUTBOX_RETRY_BASE_SECONDS = 60
    outbox.handler("a", name="t.down", external=True)(lambda event: 1 / 0)
    for _ in range(50):
        outbox.publish("a", {})
    outbox.drain()
    due = sorted(OutboxMessage.objects.values_list("available_at", flat=True))
    assert all(T0 <= at <= T0 + timedelta(seconds=60) for at in due)
    assert len(set(due)) == 50
    assert due[-1] - due[0] > timedelta(seconds=30)


def test_requeue_dead_gives_fresh_attempts(db, registry, settings):
    settings.SERVIO_OUTBOX_MAX_ATTEMPTS = 1
    broken = True

    @outbox.handler("a", name="t.flaky")
    def flaky(event: outbox.Event) -> None:
        if broken:
            raise Boom("still broken")

    outbox.publish("a", {})
    outbox.publish("a", {})
    outbox.drain()
    dead = list(OutboxMessage.objects.filter(status=Status.DEAD).order_by("id"))
    assert len(dead) == 2

    broken = False
    assert outbox.requeue_dead(ids=[dead[0].id]) == 1
    row = OutboxMessage.objects.get(id=dead[0].id)
    assert (row.status, row.attempts, row.last_error) == (Status.PENDING, 0, "")
    assert outbox.drain() == 1
    assert OutboxMessage.objects.get(id=dead[0].id).status == Status.DELIVERED
    assert OutboxMessage.objects.get(id=dead[1].id).status == Status.DEAD
    assert outbox.requeue_dead() == 1
    outbox.drain()
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.DELIVERED}


def test_event_already_applied_is_not_applied_again(db, registry):
    runs: list[outbox.Event] = []
    outbox.handler("a", name="t.once")(runs.append)
    event_id = outbox.publish("a", {})
    # A previous delivery committed its effect (and this marker) but the row was redelivered.
    ProcessedEvent.objects.create(handler="t.once", event_id=event_id)

    assert outbox.deliver(_claim_one()) is True
    assert runs == []
    assert OutboxMessage.objects.get().status == Status.DELIVERED


def test_the_same_event_is_applied_once_per_handler(db, registry):
    """The marker is per (handler, event): a second handler of the same event still runs."""
    runs: list[str] = []
    outbox.handler("a", name="t.one")(lambda event: runs.append("one"))
    outbox.handler("a", name="t.two")(lambda event: runs.append("two"))
    outbox.publish("a", {})
    outbox.drain()
    assert sorted(runs) == ["one", "two"]


def test_handler_writes_roll_back_with_its_failure(db, registry):
    fail = True

    @outbox.handler("a", name="t.writer")
    def writer(event: outbox.Event) -> None:
        JobState.objects.create(name=f"effect-{event.id}")
        if fail:
            raise Boom("after writing")

    event_id = outbox.publish("a", {})
    assert outbox.deliver(_claim_one()) is False
    assert not JobState.objects.filter(name=f"effect-{event_id}").exists()
    assert not ProcessedEvent.objects.exists()
    assert OutboxMessage.objects.get().attempts == 1

    fail = False
    OutboxMessage.objects.update(available_at=timezone.now())
    assert outbox.deliver(_claim_one()) is True
    assert JobState.objects.filter(name=f"effect-{event_id}").count() == 1
    assert ProcessedEvent.objects.filter(event_id=event_id).count() == 1


def test_unknown_handler_is_an_error_not_a_silent_success(db, registry):
    outbox.handler("a", name="t.gone")(lambda event: None)
    outbox.publish("a", {})
    outbox.unregister("t.gone")
    assert outbox.deliver(_claim_one()) is False
    row = OutboxMessage.objects.get()
    assert row.status == Status.PENDING
    assert "No handler named 't.gone'" in row.last_error


def test_late_failure_does_not_undo_another_workers_delivery(db, registry, settings):
    """Our lease ran out, another worker delivered the row, then our handler failed."""
    settings.SERVIO_OUTBOX_MAX_ATTEMPTS = 1

    @outbox.handler("a", name="t.slow")
    def slow(event: outbox.Event) -> None:
        raise Boom("late")

    outbox.publish("a", {})
    mine = _claim_one(worker="me")
    OutboxMessage.objects.update(status=Status.DELIVERED, delivered_at=timezone.now())

    assert outbox.deliver(mine) is False
    assert OutboxMessage.objects.get().status == Status.DELIVERED


def test_drain_skips_rows_whose_lease_ran_out_during_the_batch(db, registry, settings, clock):
    settings.SERVIO_OUTBOX_LEASE_SECONDS = 30
    seen: list[int] = []

    @outbox.handler("a", name="t.slow")
    def slow(event: outbox.Event) -> None:
        seen.append(event.payload["n"])
        clock.advance(seconds=31)  # the first delivery outlives the batch's lease

    outbox.publish("a", {"n": 1})
    outbox.publish("a", {"n": 2})
    assert outbox.drain(max_batches=1) == 1
    assert seen == [1]
    second = OutboxMessage.objects.get(payload__n=2)
    assert (second.status, second.attempts) == (Status.PENDING, 0)
    outbox.drain()
    assert seen == [1, 2]


# --- external handlers (network: run with no transaction open) --------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_external_handler_runs_with_no_transaction_open(registry):
    """Issue 13, item 5: the network call holds no database lock; the outcome is recorded after."""
    seen: list[tuple[bool, str]] = []

    @outbox.handler("a", name="t.net", external=True)
    def net(event: outbox.Event) -> None:
        row = OutboxMessage.objects.get(event_id=event.id, handler="t.net")
        seen.append((network.in_transaction(), row.status))

    @outbox.handler("a", name="t.db")
    def db_effect(event: outbox.Event) -> None:
        seen.append((network.in_transaction(), "db"))

    with transaction.atomic():
        event_id = outbox.publish("a", {})
    assert outbox.drain() == 2

    assert sorted(seen) == [(False, Status.PENDING), (True, "db")]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    assert ProcessedEvent.objects.filter(handler="t.net", event_id=event_id).exists()


@pytest.mark.django_db(transaction=True)
def test_a_transactional_handler_may_not_talk_to_the_network(registry):
    """A network call from inside a delivery transaction fails at once, saying what to do."""

    @outbox.handler("a", name="t.mistake")
    def mistake(event: outbox.Event) -> None:
        network.require_no_transaction("Calling the webhook")

    with transaction.atomic():
        outbox.publish("a", {})
    outbox.drain()
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "TransactionHeld: Calling the webhook inside a database transaction" in row.last_error
    assert "external=True" in row.last_error


@pytest.mark.django_db(transaction=True)
def test_external_handlers_do_not_run_inside_a_callers_transaction(registry):
    calls: list[uuid.UUID] = []
    outbox.handler("a", name="t.net", external=True)(lambda event: calls.append(event.id))
    with transaction.atomic():
        outbox.publish("a", {})
    with transaction.atomic():
        outbox.drain()
    assert calls == []
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "TransactionHeld" in row.last_error


def test_an_external_handler_is_not_called_again_for_an_applied_event(db, registry):
    calls: list[uuid.UUID] = []
    outbox.handler("a", name="t.net", external=True)(lambda event: calls.append(event.id))
    event_id = outbox.publish("a", {})
    ProcessedEvent.objects.create(handler="t.net", event_id=event_id)  # it went out before

    assert outbox.deliver(_claim_one()) is True
    assert calls == []
    assert OutboxMessage.objects.get().status == Status.DELIVERED


def test_an_external_failure_backs_off_like_any_other(db, registry, settings, clock):
    settings.SERVIO_OUTBOX_MAX_ATTEMPTS = 2

    @outbox.handler("a", name="t.net", external=True)
    def net(event: outbox.Event) -> None:
        raise Boom(f"server down, attempt {event.attempt}")

    outbox.publish("a", {})
    assert outbox.deliver(_claim_one()) is False
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts, row.locked_until) == (Status.PENDING, 1, None)
    assert row.last_error.endswith("Boom: server down, attempt 1")
    assert not ProcessedEvent.objects.exists()
    clock.advance(days=1)
    assert outbox.deliver(_claim_one()) is False
    assert OutboxMessage.objects.get().status == Status.DEAD


def test_external_delivery_renews_a_lease_that_is_running_out(db, registry, settings, clock):
    """A call always starts with at least half a lease ahead of it; a fresh claim is enough
    (no extra write), a claim that has waited behind a slow batch is renewed first."""
    settings.SERVIO_OUTBOX_LEASE_SECONDS = 60
    leases: list[object] = []

    @outbox.handler("a", name="t.net", external=True)
    def net(event: outbox.Event) -> None:
        leases.append(OutboxMessage.objects.get(event_id=event.id).locked_until)

    outbox.publish("a", {})
    outbox.publish("a", {})
    first, second = outbox.claim_batch(worker="me")
    clock.advance(seconds=20)
    assert outbox.deliver(first) is True
    clock.advance(seconds=20)  # 20 s of the second row's lease left: renewed before the call
    assert outbox.deliver(second) is True
    assert leases == [T0 + timedelta(seconds=60), clock.now + timedelta(seconds=60)]


def test_an_external_row_another_worker_took_over_is_left_alone(db, registry, settings, clock):
    settings.SERVIO_OUTBOX_LEASE_SECONDS = 60
    calls: list[uuid.UUID] = []
    outbox.handler("a", name="t.net", external=True)(lambda event: calls.append(event.id))
    outbox.publish("a", {})
    mine = _claim_one(worker="me")
    clock.advance(seconds=61)  # my lease ran out (a stalled process); another worker claims it
    theirs = _claim_one(worker="them")

    assert outbox.deliver(mine) is False
    assert calls == []
    row = OutboxMessage.objects.get()
    assert (row.locked_by, row.attempts, row.last_error) == ("them", 0, "")
    assert outbox.deliver(theirs) is True
    assert len(calls) == 1


# --- claim ----------------------------------------------------------------------------------


def _rows(count: int, **fields: object) -> list[OutboxMessage]:
    return OutboxMessage.objects.bulk_create(
        [OutboxMessage(topic="t", handler=f"h{n}", **fields) for n in range(count)]  # type: ignore[misc]
    )


def test_two_workers_never_get_the_same_row(db):
    _rows(5, available_at=timezone.now() - timedelta(seconds=1))
    first = outbox.claim_batch(limit=3, worker="a")
    second = outbox.claim_batch(limit=3, worker="b")
    assert len(first) == 3 and len(second) == 2
    assert not {m.id for m in first} & {m.id for m in second}
    assert outbox.claim_batch(worker="c") == []
    assert {m.locked_by for m in first} == {"a"} and {m.locked_by for m in second} == {"b"}


def test_claim_takes_the_oldest_due_rows_first(db):
    now = timezone.now()
    _late, early = _rows(2, available_at=now - timedelta(seconds=1))
    OutboxMessage.objects.filter(id=early.id).update(available_at=now - timedelta(minutes=5))
    assert [m.id for m in outbox.claim_batch(limit=1)] == [early.id]


def test_expired_lease_makes_the_row_claimable_again(db, settings, clock):
    settings.SERVIO_OUTBOX_LEASE_SECONDS = 60
    _rows(1, available_at=T0)
    held = _claim_one(worker="crashed")
    assert held.locked_until == T0 + timedelta(seconds=60)
    clock.advance(seconds=59)
    assert outbox.claim_batch(worker="other") == []
    clock.advance(seconds=2)
    taken = _claim_one(worker="other")
    assert (taken.id, taken.locked_by) == (held.id, "other")


def test_row_not_yet_available_is_not_claimed(db, clock):
    _rows(1, available_at=T0 + timedelta(minutes=1))
    assert outbox.claim_batch() == []
    clock.advance(minutes=1)
    assert len(outbox.claim_batch()) == 1


def test_delivered_and_dead_rows_are_not_claimed(db):
    _rows(1, status=Status.DELIVERED)
    _rows(1, status=Status.DEAD)
    assert outbox.claim_batch() == []


def test_worker_name_tells_processes_apart():
    assert outbox.worker_name().split(":")[1] == str(os.getpid())


def test_stats_report_pending_dead_and_lag(db, clock):
    _rows(2, available_at=T0 - timedelta(seconds=30))
    _rows(1, available_at=T0 + timedelta(minutes=5))
    _rows(1, status=Status.DEAD)
    stats = outbox.outbox_stats()
    assert (stats.pending, stats.dead, stats.lag_seconds) == (3, 1, 30.0)
