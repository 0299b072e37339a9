"""The transactional outbox: `publish` inside a transaction, handlers run after commit.

Each published event becomes one row per registered handler, so a failing handler is retried
alone; `publish_many` writes the rows of several events with one `bulk_create`. Delivery is
at-least-once. A transactional handler (database effects) runs inside the transaction that
marks its row delivered and writes a `ProcessedEvent` marker, so its effects apply exactly once.
An external handler (network: mail, webhooks) runs with no transaction open, between two short
ones, and is keyed by the event id so that a redelivery is recognised (decision 24).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from servio.core import backoff, network
from servio.core.models import OutboxMessage, ProcessedEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """What a handler receives: the event id (for idempotency), its topic and payload."""

    id: uuid.UUID
    topic: str
    payload: dict[str, Any]
    attempt: int = 1


Handler = Callable[[Event], None]


@dataclass
class _Registration:
    name: str
    topics: frozenset[str]
    func: Handler
    external: bool = False


_handlers: dict[str, _Registration] = {}
_wakeups: list[Callable[[], None]] = []
# handlers_for() answers per topic, valid while the registry is the same dict at the same
# generation (registering or unregistering bumps it; tests swap in a fresh dict).
_generation = 0
_topic_cache: dict[str, list[str]] = {}
_topic_cache_key: tuple[int, int] = (0, -1)


def handler(
    *topics: str, name: str | None = None, external: bool = False
) -> Callable[[Handler], Handler]:
    """Register a handler for topics ("*" = every topic). Names must be stable: rows keep them.

    `external=True` for a handler that talks to the network (mail, webhooks): it runs with no
    transaction open and must recognise a redelivered `event.id` itself. Otherwise its database
    writes share the transaction that marks the row delivered (exactly once).
    """

    def decorator(func: Handler) -> Handler:
        global _generation
        key = name or f"{func.__module__}.{func.__qualname__}"
        _handlers[key] = _Registration(key, frozenset(topics), func, external)
        _generation += 1
        return func

    return decorator


def unregister(name: str) -> None:
    global _generation
    _handlers.pop(name, None)
    _generation += 1


EXTRA_MODULES_ENV = "SERVIO_EXTRA_HANDLER_MODULES"


def load_extra_modules() -> None:
    """Import the modules named in SERVIO_EXTRA_HANDLER_MODULES (comma-separated), once.

    App `handlers`/`tasks` modules are found by `registry.autodiscover`; this adds modules outside
    the apps (plugins, test fixtures) so that every process that publishes, delivers or schedules
    (web, runner, Celery worker and beat) registers the same handlers and periodic jobs.
    """
    _import_modules(os.environ.get(EXTRA_MODULES_ENV, ""))


@cache
def _import_modules(spec: str) -> None:
    for module in (part.strip() for part in spec.split(",")):
        if module:
            import_module(module)


def handlers_for(topic: str) -> list[str]:
    """The names of the handlers of a topic, sorted (one outbox row each)."""
    global _topic_cache, _topic_cache_key
    load_extra_modules()
    key = (id(_handlers), _generation)
    if key != _topic_cache_key:
        _topic_cache, _topic_cache_key = {}, key
    names = _topic_cache.get(topic)
    if names is None:
        names = sorted(r.name for r in _handlers.values() if topic in r.topics or "*" in r.topics)
        _topic_cache[topic] = names
    return list(names)


def on_wakeup(callback: Callable[[], None]) -> None:
    """Called after a commit that published events (the runner wakes; Celery gets a task)."""
    if callback not in _wakeups:
        _wakeups.append(callback)


def off_wakeup(callback: Callable[[], None]) -> None:
    """Forget a wake-up callback (a stopped runner must not be woken, nor kept alive)."""
    if callback in _wakeups:
        _wakeups.remove(callback)


def publish(topic: str, payload: dict[str, Any], *, event_id: uuid.UUID | None = None) -> uuid.UUID:
    """Record an event in the current transaction; nothing is delivered if it rolls back."""
    return publish_many([(topic, payload)], event_ids=[event_id or uuid.uuid4()])[0]


def publish_many(
    events: Iterable[tuple[str, dict[str, Any]]],
    *,
    event_ids: Iterable[uuid.UUID] | None = None,
) -> list[uuid.UUID]:
    """`publish` for several events at once: the same rows (one per event and handler) in one
    `bulk_create` of the current transaction, and one wake-up after commit. Returns the event
    ids."""
    events = list(events)
    ids = list(event_ids) if event_ids is not None else [uuid.uuid4() for _ in events]
    if len(ids) != len(events):
        raise ValueError("publish_many needs one event id per event.")
    now = timezone.now()
    rows = [
        OutboxMessage(
            event_id=event_id,
            topic=topic,
            handler=name,
            payload=payload,
            available_at=now,
            created_at=now,
        )
        for (topic, payload), event_id in zip(events, ids, strict=True)
        for name in handlers_for(topic)
    ]
    if not rows:
        return ids
    # No savepoint of its own: the rows belong to the caller's change and fail with it.
    with transaction.atomic(savepoint=False):
        OutboxMessage.objects.bulk_create(rows)
    _wake_after_commit()
    return ids


def _wake_after_commit() -> None:
    """Schedule one wake-up per transaction, however many events it publishes.

    A wake-up registered in a savepoint that rolls back is dropped with it, so a later publish
    in the same transaction registers a new one.
    """
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(func is _wake for _, func, _ in conn.run_on_commit):
        return
    transaction.on_commit(_wake)


def _wake() -> None:
    for callback in list(_wakeups):
        try:
            callback()
        except Exception:  # a lost wake-up only delays delivery until the next poll
            log.warning("outbox wake-up callback failed", exc_info=True)


def worker_name() -> str:
    """Who holds a lease: host, process and thread (forked Celery children share thread ids)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def claim_batch(*, limit: int = 50, worker: str | None = None) -> list[OutboxMessage]:
    """Lease up to `limit` due rows to this worker; an expired lease makes a row claimable again."""
    worker = worker or worker_name()
    now = timezone.now()
    lease_until = now + timedelta(seconds=settings.SERVIO_OUTBOX_LEASE_SECONDS)
    claimable = Q(status=OutboxMessage.Status.PENDING, available_at__lte=now) & (
        Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    )
    with transaction.atomic():
        candidates = OutboxMessage.objects.filter(claimable).order_by("available_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        OutboxMessage.objects.filter(claimable, id__in=ids).update(
            locked_until=lease_until, locked_by=worker
        )
    return list(
        OutboxMessage.objects.filter(
            id__in=ids, locked_by=worker, locked_until=lease_until
        ).order_by("available_at", "id")
    )


RETRY_CAP_SECONDS = 86_400


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: between zero and base, 2x base, 4x base, ...
    (capped at one day), so rows that failed together do not all come back together."""
    return backoff.full_jitter(
        attempts,
        base=settings.SERVIO_OUTBOX_RETRY_BASE_SECONDS,
        cap=RETRY_CAP_SECONDS,
        rng=rng,
    )


def is_external(name: str) -> bool:
    """Whether the named handler talks to the network (runs outside any transaction)."""
    load_extra_modules()
    registration = _handlers.get(name)
    return registration is not None and registration.external


def deliver(message: OutboxMessage) -> bool:
    """Run one row's handler; on failure schedule a retry or dead-letter it. True if delivered."""
    load_extra_modules()
    registration = _handlers.get(message.handler)
    attempt = message.attempts + 1
    try:
        if registration is None:
            raise LookupError(
                f"No handler named '{message.handler}' is registered in this process."
            )
        if registration.external:
            if not _run_external(message, registration, attempt):
                return False  # another worker holds the row now
        else:
            _run_transactional(message, registration, attempt)
        return True
    except Exception as exc:
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
        dead = attempt >= settings.SERVIO_OUTBOX_MAX_ATTEMPTS
        # Only a pending row: if our lease ran out and another worker delivered it meanwhile,
        # our late failure must not turn a delivered row back into a retry or a dead letter.
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.PENDING).update(
            status=OutboxMessage.Status.DEAD if dead else OutboxMessage.Status.PENDING,
            attempts=attempt,
            available_at=timezone.now() + retry_delay(attempt),
            locked_until=None,
            last_error=error,
        )
        log.log(
            logging.ERROR if dead else logging.WARNING,
            "outbox %s -> %s attempt %s failed%s: %s",
            message.topic,
            message.handler,
            attempt,
            " (dead-lettered)" if dead else "",
            error,
        )
        return False


def _run_transactional(message: OutboxMessage, registration: _Registration, attempt: int) -> None:
    """The handler, its marker and the row's delivery commit together, or not at all."""
    with transaction.atomic():
        if _mark_processed(message):
            registration.func(Event(message.event_id, message.topic, message.payload, attempt))
        _mark_delivered(message, attempt)


def _run_external(message: OutboxMessage, registration: _Registration, attempt: int) -> bool:
    """Make sure the lease covers the call, call the handler with no transaction open, then
    record the outcome in one short transaction. False if the row is no longer ours."""
    network.require_no_transaction(f"The external handler '{message.handler}'")
    if not _lease_covers_a_call(message):
        return False
    done = ProcessedEvent.objects.filter(handler=message.handler, event_id=message.event_id)
    if not done.exists():
        registration.func(Event(message.event_id, message.topic, message.payload, attempt))
    with transaction.atomic():
        _mark_processed(message)
        _mark_delivered(message, attempt)
    return True


def _lease_covers_a_call(message: OutboxMessage) -> bool:
    """Renew the row's lease (a short write, only if our claim has less than half a lease left,
    and only if nobody claimed the row since); False if the row is no longer ours."""
    lease = timedelta(seconds=settings.SERVIO_OUTBOX_LEASE_SECONDS)
    now = timezone.now()
    if message.locked_until is not None and message.locked_until - now >= lease / 2:
        return True  # just claimed in this batch: the claim itself is the lease of the call
    renewed = OutboxMessage.objects.filter(
        pk=message.pk,
        status=OutboxMessage.Status.PENDING,
        locked_by=message.locked_by,
        locked_until=message.locked_until,
    ).update(locked_until=now + lease)
    if renewed:
        message.locked_until = now + lease
    return bool(renewed)


def _mark_processed(message: OutboxMessage) -> bool:
    """Write the handler's marker for the event; False if it was already there."""
    try:
        with transaction.atomic():
            ProcessedEvent.objects.create(handler=message.handler, event_id=message.event_id)
    except IntegrityError:
        return False
    return True


def _mark_delivered(message: OutboxMessage, attempt: int) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.DELIVERED,
        attempts=attempt,
        delivered_at=timezone.now(),
        locked_until=None,
        last_error="",
    )


def drain(*, limit: int = 50, max_batches: int | None = None) -> int:
    """Deliver due rows until none are left (or `max_batches`); returns how many were tried."""
    done = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        batch = claim_batch(limit=limit)
        if not batch:
            break
        for message in batch:
            # A slow batch can outlive its lease; another worker may own the rest by now.
            if message.locked_until is not None and message.locked_until <= timezone.now():
                continue
            deliver(message)
            done += 1
        batches += 1
    return done


def requeue_dead(*, ids: list[int] | None = None) -> int:
    """Give dead-lettered rows a fresh set of attempts (after the cause was fixed), due now.

    Not audited by itself: people requeue through `core.services.dead_letters_requeue`.
    """
    qs = OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD)
    if ids is not None:
        qs = qs.filter(id__in=ids)
    requeued = qs.update(
        status=OutboxMessage.Status.PENDING,
        attempts=0,
        available_at=timezone.now(),
        locked_until=None,
        last_error="",
    )
    if requeued:
        _wake_after_commit()
    return requeued


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    dead: int
    lag_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def outbox_stats() -> OutboxStats:
    now = timezone.now()
    pending = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
    oldest = pending.filter(available_at__lte=now).aggregate(m=Min("available_at"))["m"]
    return OutboxStats(
        pending=pending.count(),
        dead=OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD).count(),
        lag_seconds=round((now - oldest).total_seconds(), 3) if oldest else 0.0,
    )
