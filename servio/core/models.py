"""Shared kernel models: the transactional outbox, job schedule state, idempotency records and
the configuration token."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    """Abstract base: creation and update times for every domain record."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OutboxMessage(models.Model):
    """One delivery of one domain event to one registered handler (the durable work queue)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead-lettered"

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4)  # looked up through outbox_event_handler
    topic = models.CharField(max_length=100)
    handler = models.CharField(max_length=200)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    locked_by = models.CharField(max_length=100, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["available_at"],
                name="outbox_pending_due",
                condition=models.Q(status="pending"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "handler"], name="outbox_event_handler"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} -> {self.handler} ({self.status})"


class DeadLetterManager(models.Manager["DeadLetter"]):
    def get_queryset(self) -> models.QuerySet[DeadLetter]:
        return super().get_queryset().filter(status=OutboxMessage.Status.DEAD)


class DeadLetter(OutboxMessage):
    """An outbox row of any handler that used up its attempts (the admin's list to act on)."""

    objects: ClassVar[DeadLetterManager] = DeadLetterManager()  # type: ignore[assignment]

    class Meta:
        proxy = True
        verbose_name = "dead letter"
        ordering = ["-id"]


class ProcessedEvent(models.Model):
    """Marks that a handler has applied an event, so a redelivery changes nothing (idempotency)."""

    handler = models.CharField(max_length=200)
    event_id = models.UUIDField()
    processed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["handler", "event_id"], name="processed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.handler} processed {self.event_id}"


class JobState(models.Model):
    """When each periodic job last ran and is next due; shared by every runner process."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField(default=timezone.now)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    runs = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class ConfigVersion(models.Model):
    """A token that database triggers change on every write to a configuration table; the
    per-process caches of `servio.core.configcache` reload when it differs."""

    name = models.CharField(max_length=40, primary_key=True)
    token = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.token}"
